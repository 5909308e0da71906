import { describe, expect, it } from 'vitest';
import { runSnippet } from './test-support/run-snippet.ts';

// Steps, scoping, jumps, subworkflows, raise/try/except/retry, as documented in the Workflows
// syntax reference. Each case is a snippet and the documented result or error.
type Case = {
  name: string;
  yaml: string;
  args?: unknown;
  result?: unknown;
  errorTag?: string;
  error?: unknown;
};

const cases: Case[] = [
  {
    name: 'a list of steps is an implicit main and returns the last return',
    yaml: `
- a:
    assign:
      - x: 1
      - x: \${x + 1}
- b:
    return: \${x}`,
    result: 2,
  },
  {
    name: 'main receives the execution argument as its single param',
    yaml: `
main:
  params: [input]
  steps:
    - r:
        return: \${input.name + "!"}`,
    args: { name: 'run' },
    result: 'run!',
  },
  {
    name: 'a workflow without return ends with null',
    yaml: `
- a:
    assign:
      - x: 1`,
    result: null,
  },
  {
    name: 'assign writes nested map keys and list items',
    yaml: `
- a:
    assign:
      - m: {list: [1, 2, 3]}
      - m.list[1]: 20
      - m["new"]: \${m.list[1] + 1}
      - k: inner
      - m.deep[k]: true
- r:
    return: \${m}`,
    result: { list: [1, 20, 3], new: 21, deep: { inner: true } },
  },
  {
    name: 'assignment copies values (no aliasing between variables)',
    yaml: `
- a:
    assign:
      - x: {v: 1}
      - y: \${x}
      - y.v: 2
- r:
    return: '\${[x.v, y.v]}'`,
    result: [1, 2],
  },
  {
    name: 'next jumps to a named step',
    yaml: `
- a:
    next: c
- b:
    return: skipped
- c:
    return: jumped`,
    result: 'jumped',
  },
  {
    name: 'next: end stops the workflow with null',
    yaml: `
- a:
    assign:
      - x: 1
    next: end
- b:
    return: not reached`,
    result: null,
  },
  {
    name: 'switch takes the first true condition',
    yaml: `
- s:
    switch:
      - condition: \${1 > 2}
        next: no
      - condition: \${2 > 1}
        next: yes
- no:
    return: no
- yes:
    return: yes`,
    result: 'yes',
  },
  {
    name: 'switch without a match falls through to the step next',
    yaml: `
- s:
    switch:
      - condition: \${false}
        next: bad
    next: good
- bad:
    return: bad
- good:
    return: good`,
    result: 'good',
  },
  {
    name: 'switch condition with steps continues after the switch',
    yaml: `
- s:
    switch:
      - condition: true
        steps:
          - inner:
              assign:
                - x: inner
- after:
    return: \${x}`,
    result: 'inner',
  },
  {
    name: 'switch condition with an embedded return',
    yaml: `
- s:
    switch:
      - condition: \${"a" == "a"}
        return: embedded
- after:
    return: after`,
    result: 'embedded',
  },
  {
    name: 'switch condition must be a boolean',
    yaml: `
- s:
    switch:
      - condition: \${1}
        next: end`,
    errorTag: 'TypeError',
  },
  {
    name: 'for over a list with value and index',
    yaml: `
- init:
    assign:
      - out: []
- loop:
    for:
      value: v
      index: i
      in: [a, b, c]
      steps:
        - add:
            assign:
              - out: \${list.concat(out, string(i) + v)}
- r:
    return: \${out}`,
    result: ['0a', '1b', '2c'],
  },
  {
    name: 'for over a range is inclusive',
    yaml: `
- init:
    assign:
      - sum: 0
- loop:
    for:
      value: n
      range: [1, 10]
      steps:
        - add:
            assign:
              - sum: \${sum + n}
- r:
    return: \${sum}`,
    result: 55,
  },
  {
    name: 'for over map keys',
    yaml: `
- init:
    assign:
      - m: {a: 1, b: 2}
      - total: 0
- loop:
    for:
      value: k
      in: \${keys(m)}
      steps:
        - add:
            assign:
              - total: \${total + m[k]}
- r:
    return: \${total}`,
    result: 3,
  },
  {
    name: 'for over a map directly is a TypeError',
    yaml: `
- loop:
    for:
      value: k
      in: '\${ {"a": 1} }'
      steps:
        - s:
            next: continue`,
    errorTag: 'TypeError',
  },
  {
    name: 'variables created in a loop do not exist after it',
    yaml: `
- loop:
    for:
      value: v
      in: [1]
      steps:
        - a:
            assign:
              - insideOnly: \${v}
- r:
    return: \${insideOnly}`,
    errorTag: 'KeyError',
  },
  {
    name: 'variables defined before a loop are updated by it',
    yaml: `
- init:
    assign:
      - last: null
- loop:
    for:
      value: v
      in: [1, 2, 3]
      steps:
        - a:
            assign:
              - last: \${v}
- r:
    return: \${last}`,
    result: 3,
  },
  {
    name: 'break leaves the loop, continue skips the rest of the iteration',
    yaml: `
- init:
    assign:
      - seen: []
- loop:
    for:
      value: v
      range: [1, 10]
      steps:
        - odd:
            switch:
              - condition: \${v % 2 == 1}
                next: continue
        - stop:
            switch:
              - condition: \${v > 6}
                next: break
        - add:
            assign:
              - seen: \${list.concat(seen, v)}
- r:
    return: \${seen}`,
    result: [2, 4, 6],
  },
  {
    name: 'return inside a loop returns from the workflow',
    yaml: `
- loop:
    for:
      value: v
      in: [1, 2, 3]
      steps:
        - found:
            switch:
              - condition: \${v == 2}
                return: \${"found " + string(v)}
- r:
    return: none`,
    result: 'found 2',
  },
  {
    name: 'nested steps can jump to an outer step',
    yaml: `
- group:
    steps:
      - inner:
          next: out
- unreachable:
    return: bad
- out:
    return: out`,
    result: 'out',
  },
  {
    name: 'subworkflow call with params, defaults and result',
    yaml: `
main:
  steps:
    - c:
        call: greet
        args:
          who: world
        result: r
    - ret:
        return: \${r}
greet:
  params: [who, {greeting: hello}]
  steps:
    - r:
        return: \${greeting + " " + who}`,
    result: 'hello world',
  },
  {
    name: 'subworkflows have their own scope',
    yaml: `
main:
  steps:
    - a:
        assign:
          - x: main
    - c:
        call: sub
    - r:
        return: \${x}
sub:
  steps:
    - a:
        assign:
          - x: sub`,
    result: 'main',
  },
  {
    name: 'next: end inside a subworkflow returns null to the caller',
    yaml: `
main:
  steps:
    - c:
        call: sub
        result: r
    - ret:
        return: \${r == null}
sub:
  steps:
    - a:
        next: end
    - b:
        return: 1`,
    result: true,
  },
  {
    name: 'unbounded recursion raises RecursionError',
    yaml: `
main:
  steps:
    - c:
        call: rec
        args: {n: 0}
rec:
  params: [n]
  steps:
    - again:
        call: rec
        args: {n: '\${n + 1}'}`,
    errorTag: 'RecursionError',
  },
];

describe('control flow', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const out = await runSnippet(c.yaml, c.args, { maxSteps: 1000 });
    if (c.errorTag !== undefined) {
      expect(out).toHaveProperty('error');
      expect((out as { error: { tags: string[] } }).error.tags).toContain(c.errorTag);
    } else if (c.error !== undefined) {
      expect(out).toEqual({ error: c.error });
    } else {
      expect(out).toEqual({ result: c.result });
    }
  });
});
