import { describe, expect, it } from 'vitest';
import { WorkflowLoadError } from './errors.ts';
import { loadWorkflowSource } from './index.ts';

// Unsupported or invalid definitions fail before anything runs, naming the construct and line.
const cases: [string, string, RegExp, number][] = [
  [
    'parallel is rejected naming the step',
    `
- p:
    parallel:
      branches: []`,
    /parallel steps are not supported.*"p"/,
    3,
  ],
  [
    'unknown call target',
    `\n- c:\n    call: googleapis.pubsub.v1.projects.topics.publish`,
    /unknown function or subworkflow "googleapis.pubsub/,
    3,
  ],
  ['unknown next target', `\n- a:\n    next: nowhere`, /next target "nowhere" does not exist/, 3],
  [
    'unknown step field',
    `\n- a:\n    assign:\n      - x: 1\n    result: y`,
    /unsupported field "result" in step "a"/,
    5,
  ],
  [
    'duplicate step names',
    `\n- a:\n    next: end\n- a:\n    next: end`,
    /duplicate step name "a" \(first defined on line 2\)/,
    4,
  ],
  ['break outside a loop', `\n- a:\n    next: break`, /next: break is only allowed inside a for loop/, 3],
  ['expression syntax error', `\n- a:\n    return: \${1 +}`, /unexpected end of expression/, 3],
  ['unknown function in an expression', `\n- a:\n    return: \${nope(1)}`, /unknown function nope\(\)/, 3],
  [
    'blocking call inside an expression',
    `\n- a:\n    return: '\${http.get("http://x")}'`,
    /http.get is a blocking call/,
    3,
  ],
  ['wrong arity', `\n- a:\n    return: \${len(1, 2)}`, /len\(\) takes 1 argument/, 3],
  [
    'unknown call argument',
    `\n- a:\n    call: sys.sleep\n    args:\n      secs: 1`,
    /sys.sleep has no argument "secs"/,
    5,
  ],
  [
    'missing subworkflow argument',
    `
main:
  steps:
    - c:
        call: sub
sub:
  params: [x]
  steps:
    - r:
        return: \${x}`,
    /missing required argument "x"/,
    5,
  ],
  [
    'next out of a for loop',
    `\n- l:\n    for:\n      value: v\n      in: [1]\n      steps:\n        - j:\n            next: after\n- after:\n    return: 1`,
    /next target "after" is not reachable/,
    8,
  ],
  [
    'for without in or range',
    `\n- l:\n    for:\n      value: v\n      steps: []`,
    /exactly one of "in" or "range"/,
    3,
  ],
  [
    'try without retry or except',
    `\n- t:\n    try:\n      assign:\n        - x: 1`,
    /needs retry or except/,
    3,
  ],
  ['map of workflows without main', `\nsub:\n  steps:\n    - a:\n        return: 1`, /no "main" workflow/, 2],
  [
    'unknown retry predicate',
    `\n- t:\n    try:\n      raise: x\n    retry:\n      predicate: \${my_pred}\n      max_retries: 1`,
    /unknown retry predicate "my_pred"/,
    6,
  ],
  ['a step that does nothing', `\n- a: {}`, /step "a" does nothing/, 2],
  ['invalid YAML', `\n- a:\n    return: [1, 2`, /invalid YAML/, 3],
];

describe('load-time errors', () => {
  it.each(cases)('%s', (_name, yaml, message, line) => {
    let err: unknown;
    try {
      loadWorkflowSource(yaml);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WorkflowLoadError);
    expect((err as WorkflowLoadError).message).toMatch(message);
    expect((err as WorkflowLoadError).line).toBe(line);
  });

  it('limits assign steps to 50 assignments', () => {
    const items = Array.from({ length: 51 }, (_, i) => `      - v${i}: ${i}`).join('\n');
    expect(() => loadWorkflowSource(`- a:\n    assign:\n${items}`)).toThrow(
      /51 assignments; the limit is 50/,
    );
  });
});
