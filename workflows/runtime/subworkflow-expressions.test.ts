import { describe, expect, it } from 'vitest';
import { WorkflowLoadError } from './errors.ts';
import { loadWorkflowSource } from './index.ts';
import { runSnippet } from './test-support/run-snippet.ts';

// Conformance: a subworkflow called inside an expression (`${name_message("Ada", "Lovelace")}`),
// documented in the Workflows syntax reference (Subworkflows) and refused by the local runtime
// before. Arguments are positional in the order of `params`; defaults fill the rest.
const SUBS = `
name_message:
  params: [first_name, last_name, {country: "England"}]
  steps:
    - prepare:
        return: \${"Hello " + first_name + " " + last_name + " from " + country + "."}
twice:
  params: [n]
  steps:
    - count:
        assign:
          - calls: 1
    - r:
        return: \${n * 2}
boom:
  steps:
    - r:
        raise: {tags: [BoomError], message: boom}
`;

const main = (steps: string) => `main:\n  steps:\n${steps}\n${SUBS}`;

describe('subworkflows called in expressions', () => {
  it('takes positional arguments, with the defaults of the params', async () => {
    expect(await runSnippet(main('    - r:\n        return: ${name_message("Ada", "Lovelace")}'))).toEqual({
      result: 'Hello Ada Lovelace from England.',
    });
    expect(
      await runSnippet(main('    - r:\n        return: ${name_message("Ada", "Lovelace", "Wales")}')),
    ).toEqual({ result: 'Hello Ada Lovelace from Wales.' });
  });

  it('nests in operators, lists, maps, conditions, for loops and call arguments', async () => {
    const yaml = main(`    - a:
        assign:
          - xs: \${[twice(1), twice(twice(2))]}
          - m: '\${ {"v": twice(5) + 1} }'
    - cond:
        switch:
          - condition: \${twice(xs[0]) == 4}
            assign:
              - ok: true
    - loop:
        for:
          value: x
          in: \${[twice(1), twice(2)]}
          steps:
            - add:
                assign:
                  - total: \${default(map.get(m, "t"), 0) + x}
                  - m.t: \${total}
    - c:
        call: sys.log
        args:
          text: \${string(twice(3))}
    - r:
        return: \${[xs, m.v, ok, m.t]}`);
    expect(await runSnippet(yaml)).toEqual({ result: [[2, 8], 11, true, 6] });
  });

  it('short-circuits: the right side of "and" / "or" is not called when the left decides', async () => {
    const yaml = main(`    - r:
        return: \${false and boom() or true or boom()}`);
    expect(await runSnippet(yaml)).toEqual({ result: true });
  });

  it('an error raised inside is caught by the try of the calling step', async () => {
    const yaml = main(`    - t:
        try:
          assign:
            - x: \${boom()}
        except:
          as: e
          steps:
            - r:
                return: \${e.message}`);
    expect(await runSnippet(yaml)).toEqual({ result: 'boom' });
  });

  it('the wrong number of arguments fails at load, naming the params', () => {
    expect(() => loadWorkflowSource(main('    - r:\n        return: ${name_message("Ada")}'))).toThrow(
      /subworkflow name_message takes 2 to 3 argument\(s\) \(first_name, last_name, country\), got 1/,
    );
    expect(() => loadWorkflowSource(main('    - r:\n        return: ${nosuch(1)}'))).toThrow(
      WorkflowLoadError,
    );
  });
});
