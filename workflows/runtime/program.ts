import type { Evaluator } from './expr/compile.ts';

/** A compiled workflow file: `main` plus subworkflows, every step with its source line. */
export interface Program {
  workflows: Map<string, WorkflowDef>;
}

export interface ParamDef {
  name: string;
  /** Evaluated in the callee's scope when the caller leaves the parameter out. */
  defaultValue?: Evaluator;
  required: boolean;
}

export interface WorkflowDef {
  name: string;
  line: number;
  params: ParamDef[];
  steps: StepList;
}

export interface StepList {
  steps: Step[];
  index: Map<string, number>;
}

export interface Step {
  name: string;
  line: number;
  /** `end`, `break`, `continue` or a step name. */
  next?: string;
  body: StepBody;
}

/** One `assign` target: `name`, `name.key`, `name["key"]`, `name[i].key`… */
export interface AssignTarget {
  root: string;
  path: (string | Evaluator)[];
}

export interface RetrySpec {
  predicate: { kind: 'builtin'; name: string } | { kind: 'sub'; name: string };
  maxRetries: Evaluator;
  initialDelay: Evaluator;
  maxDelay: Evaluator;
  multiplier: Evaluator;
}

export interface SwitchCase {
  line: number;
  condition: Evaluator;
  body?: StepBody;
  next?: string;
}

export type StepBody =
  | { k: 'assign'; items: { target: AssignTarget; value: Evaluator }[] }
  | {
      k: 'call';
      fn: string;
      kind: 'builtin' | 'sub';
      args: (Evaluator | undefined)[];
      named: Map<string, Evaluator>;
      result?: string;
    }
  | { k: 'switch'; cases: SwitchCase[] }
  | {
      k: 'for';
      value?: string;
      index?: string;
      inList?: Evaluator;
      range?: [Evaluator, Evaluator];
      steps: StepList;
    }
  | { k: 'raise'; value: Evaluator }
  | { k: 'return'; value: Evaluator }
  | { k: 'try'; body: StepBody; retry?: RetrySpec; except?: { as?: string; steps: StepList } }
  | { k: 'steps'; steps: StepList }
  | { k: 'noop' };
