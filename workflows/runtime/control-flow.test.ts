import { describe, expect, it } from 'vitest';
import { VirtualClock } from './context.ts';
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
  {
    name: 'raise a string is caught as that string',
    yaml: `
- t:
    try:
      steps:
        - boom:
            raise: "custom failure"
    except:
      as: e
      steps:
        - r:
            return: \${e}`,
    result: 'custom failure',
  },
  {
    name: 'raise a map keeps its fields',
    yaml: `
- t:
    try:
      raise:
        code: 55
        message: bad thing
    except:
      as: e
      steps:
        - r:
            return: \${e.code}`,
    result: 55,
  },
  {
    name: 'uncaught raise fails the execution with the raised value',
    yaml: `
- boom:
    raise: {tags: [MyError], message: nope}`,
    error: { tags: ['MyError'], message: 'nope' },
  },
  {
    name: 'runtime errors are maps with tags and message',
    yaml: `
- t:
    try:
      assign:
        - x: \${1 / 0}
    except:
      as: e
      steps:
        - r:
            return: '\${[e.tags, "ZeroDivisionError" in e.tags, len(e.message) > 0]}'`,
    result: [['ZeroDivisionError'], true, true],
  },
  {
    name: 'except can re-raise',
    yaml: `
- t:
    try:
      raise: inner
    except:
      as: e
      steps:
        - again:
            raise: \${"outer:" + e}`,
    error: 'outer:inner',
  },
  {
    name: 'the except variable stays visible after the try step',
    yaml: `
- t:
    try:
      raise: oops
    except:
      as: err
      steps:
        - noop:
            assign:
              - handled: true
- r:
    return: \${err + string(handled)}`,
    result: 'oopstrue',
  },
  {
    name: 'retry.always retries max_retries times then raises',
    yaml: `
- init:
    assign:
      - n: 0
- t:
    try:
      steps:
        - inc:
            assign:
              - n: \${n + 1}
        - fail:
            raise: \${"attempt " + string(n)}
    retry:
      predicate: \${retry.always}
      max_retries: 3
      backoff:
        initial_delay: 1
        max_delay: 10
        multiplier: 2`,
    error: 'attempt 4',
  },
  {
    name: 'retry then except: the except sees the last error',
    yaml: `
- init:
    assign:
      - n: 0
- t:
    try:
      steps:
        - inc:
            assign:
              - n: \${n + 1}
        - fail:
            raise: {tags: [ConnectionError], message: down}
    retry: \${http.default_retry}
    except:
      as: e
      steps:
        - r:
            return: '\${[n, e.message]}'`,
    result: [6, 'down'],
  },
  {
    name: 'default retry predicate does not retry a 404',
    yaml: `
- init:
    assign:
      - n: 0
- t:
    try:
      steps:
        - inc:
            assign:
              - n: \${n + 1}
        - fail:
            raise: {tags: [HttpError], code: 404, message: not found}
    retry: \${http.default_retry}
    except:
      as: e
      steps:
        - r:
            return: \${n}`,
    result: 1,
  },
  {
    name: 'a custom predicate subworkflow decides what is retried',
    yaml: `
main:
  steps:
    - init:
        assign:
          - n: 0
    - t:
        try:
          steps:
            - inc:
                assign:
                  - n: \${n + 1}
            - maybe:
                switch:
                  - condition: \${n < 3}
                    raise: {tags: [Transient], message: again}
        retry:
          predicate: \${only_transient}
          max_retries: 5
          backoff: {initial_delay: 1, max_delay: 1, multiplier: 1}
    - r:
        return: \${n}
only_transient:
  params: [e]
  steps:
    - check:
        return: \${"Transient" in e.tags}`,
    result: 3,
  },
  {
    name: 'sys.sleep advances sys.now on the execution clock',
    yaml: `
- t0:
    assign:
      - start: \${sys.now()}
- wait:
    call: sys.sleep
    args:
      seconds: 90
- r:
    return: \${sys.now() - start}`,
    result: 90,
  },
  {
    name: 'call of a standard-library function with named args and result',
    yaml: `
- split:
    call: text.split
    args:
      source: "a b"
      separator: " "
    result: parts
- log:
    call: sys.log
    args:
      text: \${parts[1]}
      severity: INFO
- r:
    return: \${parts}`,
    result: ['a', 'b'],
  },
  {
    name: 'exceeding the step limit raises ResourceLimitError',
    yaml: `
- loop:
    next: loop`,
    errorTag: 'ResourceLimitError',
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

  it('backs off initial_delay × multiplier^n capped at max_delay between retries', async () => {
    const clock = new VirtualClock();
    const start = clock.now();
    const out = await runSnippet(
      `
- t:
    try:
      raise: x
    retry:
      predicate: \${retry.always}
      max_retries: 5
      backoff: {initial_delay: 1, max_delay: 5, multiplier: 2}`,
      undefined,
      { clock },
    );
    expect(out).toEqual({ error: 'x' });
    // delays 1 + 2 + 4 + 5 + 5 seconds
    expect(clock.now() - start).toBe(17_000);
  });
});
