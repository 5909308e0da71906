import { describe, expect, it } from 'vitest';
import { VirtualClock } from './context.ts';
import { runSnippet } from './test-support/run-snippet.ts';

// raise / try / except / retry and error maps, stdlib calls and limits, as documented in the
// Workflows syntax reference. Each case is a snippet and the documented result or error.
type Case = {
  name: string;
  yaml: string;
  args?: unknown;
  env?: Record<string, string>;
  result?: unknown;
  errorTag?: string;
  error?: unknown;
};

const cases: Case[] = [
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
    name: 'parameter defaults are evaluated at call time (sys.get_env reads the execution env)',
    yaml: `
main:
  steps:
    - c:
        call: greet
        result: r
    - ret:
        return: \${r}
greet:
  params: [{greeting: '\${sys.get_env("GREETING", "hi")}'}]
  steps:
    - r:
        return: \${greeting}`,
    env: { GREETING: 'hello' },
    result: 'hello',
  },
  {
    name: 'exceeding the step limit raises ResourceLimitError',
    yaml: `
- loop:
    next: loop`,
    errorTag: 'ResourceLimitError',
  },
];

describe('errors, retries and calls', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const out = await runSnippet(c.yaml, c.args, { maxSteps: 1000, env: c.env });
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
