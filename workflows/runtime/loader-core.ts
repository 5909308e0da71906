import { type ExecContext, realClock } from './context.ts';
import { WorkflowLoadError } from './errors.ts';
import { compileExpression, type Evaluator, evaluate, expressionBody, type Library } from './expr/compile.ts';
import type { ParamDef, StepBody, StepList } from './program.ts';
import type { WfMap, WfValue } from './values.ts';
import type { LNode } from './yaml-tree.ts';

/** What both halves of the loader (loader.ts, loader-steps.ts) share: step kinds, errors, values. */

/** Cloud limits enforced at load (quotas page): assignments per step, conditions per switch. */
export const MAX_ASSIGNMENTS = 50;
export const MAX_SWITCH_CONDITIONS = 50;

export const STEP_KINDS = [
  'assign',
  'call',
  'switch',
  'for',
  'raise',
  'return',
  'try',
  'steps',
  'parallel',
] as const;
export const ALLOWED_WITH: Record<string, string[]> = {
  assign: ['next'],
  call: ['args', 'result', 'next'],
  switch: ['next'],
  for: ['next'],
  raise: [],
  return: [],
  try: ['retry', 'except', 'next'],
  steps: ['next'],
  parallel: ['next'],
};

/**
 * What compiling one workflow carries. `compileSteps` and `compileBody` (loader.ts) are passed in
 * rather than imported, so the step compilers in loader-steps.ts can recurse into nested steps
 * without an import cycle between the two files.
 */
export interface Ctx {
  lib: Library;
  subs: Map<string, ParamDef[]>;
  names: Map<string, number>;
  nexts: { target: string; line: number; chain: StepList[]; inFor: boolean }[];
  compileSteps(node: LNode & { kind: 'seq' }, ctx: Ctx, outer: StepList[], inFor: boolean): StepList;
  compileBody(
    kind: string,
    node: LNode & { kind: 'map' },
    ctx: Ctx,
    chain: StepList[],
    inFor: boolean,
    name: string,
  ): StepBody;
}

/** Context for the few values evaluated at load time (retry policies): no env, no I/O. */
export const LOAD_CONTEXT: ExecContext = {
  env: {},
  clock: realClock,
  log: () => {},
  signal: new AbortController().signal,
};

export const fail = (msg: string, line: number): never => {
  throw new WorkflowLoadError(msg, line);
};

export function scalarString(n: LNode, what: string): string {
  if (n.kind !== 'scalar' || typeof n.value !== 'string') return fail(`${what} must be a string`, n.line);
  return n.value;
}

/** Compiles a YAML value into an evaluator: `${...}` strings are expressions, maps and lists recurse. */
export function compileValue(node: LNode, lib: Library): Evaluator {
  if (node.kind === 'scalar') {
    const v = node.value;
    if (typeof v === 'string') {
      const body = expressionBody(v);
      if (body !== undefined) return compileExpression(body, lib, node.line);
      return () => v;
    }
    const c = (v ?? null) as WfValue;
    return () => c;
  }
  if (node.kind === 'seq') {
    const items = node.items.map((i) => compileValue(i, lib));
    const ev: Evaluator = (s) => items.map((i) => i(s));
    if (items.some((i) => i.async)) ev.async = async (s) => Promise.all(items.map((i) => evaluate(i, s)));
    return ev;
  }
  const entries = node.entries.map((e) => [e.key, compileValue(e.value, lib)] as const);
  const ev: Evaluator = (s) => {
    const out: WfMap = {};
    for (const [k, v] of entries) out[k] = v(s);
    return out;
  };
  if (entries.some(([, v]) => v.async)) {
    ev.async = async (s) => {
      const out: WfMap = {};
      for (const [k, v] of entries) out[k] = await evaluate(v, s);
      return out;
    };
  }
  return ev;
}
