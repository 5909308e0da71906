import { type ExecContext, realClock } from './context.ts';
import { WorkflowLoadError } from './errors.ts';
import { compileExpression, type Evaluator, evaluate, expressionBody, type Library } from './expr/compile.ts';
import { compileCall, compileCase, compileFor, compileTry, parseTarget } from './loader-steps.ts';
import type { ParamDef, Program, Step, StepBody, StepList, WorkflowDef } from './program.ts';
import type { WfMap, WfValue } from './values.ts';
import { entry, type LNode, parseYamlTree } from './yaml-tree.ts';

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

export interface Ctx {
  lib: Library;
  subs: Map<string, ParamDef[]>;
  names: Map<string, number>;
  nexts: { target: string; line: number; chain: StepList[]; inFor: boolean }[];
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

/**
 * Loads a workflow definition (YAML or JSON text) into a program. Everything the local runtime
 * cannot execute fails here, naming the construct and the line: unknown step fields, `parallel`,
 * unknown functions or subworkflows, bad `next` targets, malformed expressions.
 */
export function loadWorkflow(source: string, lib: Library): Program {
  const root = parseYamlTree(source);
  const defs: { name: string; node: LNode & { kind: 'map' }; line: number }[] = [];
  if (root.kind === 'seq') {
    defs.push({
      name: 'main',
      line: root.line,
      node: { kind: 'map', line: root.line, entries: [{ key: 'steps', line: root.line, value: root }] },
    });
  } else if (root.kind === 'map') {
    for (const e of root.entries) {
      if (e.value.kind !== 'map')
        fail(`workflow "${e.key}" must be a map with "steps" (and optional "params")`, e.line);
      defs.push({ name: e.key, line: e.line, node: e.value as LNode & { kind: 'map' } });
    }
    if (!defs.some((d) => d.name === 'main'))
      fail('no "main" workflow: a map of workflows needs a "main" entry', root.line);
  } else {
    fail('a workflow is a list of steps or a map of workflows with "main"', root.line);
  }

  const subs = new Map<string, ParamDef[]>();
  for (const d of defs) {
    for (const e of d.node.entries) {
      if (e.key !== 'params' && e.key !== 'steps')
        fail(`unsupported field "${e.key}" in workflow "${d.name}" (expected params, steps)`, e.line);
    }
    subs.set(d.name, parseParams(d.name, entry(d.node, 'params'), lib));
  }
  // Expressions may call the file's subworkflows (not main): `${my_subworkflow(a, b)}`.
  const withSubs: Library = {
    ...lib,
    subworkflows: new Map([...subs].filter(([name]) => name !== 'main')),
  };
  const main = subs.get('main') as ParamDef[];
  if (main.length > 1)
    fail(
      'main takes at most one parameter (the execution argument)',
      defs.find((d) => d.name === 'main')?.line ?? 1,
    );

  const workflows = new Map<string, WorkflowDef>();
  for (const d of defs) {
    const stepsNode = entry(d.node, 'steps');
    if (stepsNode?.kind !== 'seq') fail(`workflow "${d.name}" needs a "steps" list`, d.line);
    const ctx: Ctx = { lib: withSubs, subs, names: new Map(), nexts: [] };
    const steps = compileSteps(stepsNode as LNode & { kind: 'seq' }, ctx, [], false);
    for (const n of ctx.nexts) {
      if (n.target === 'end') continue;
      if (n.target === 'break' || n.target === 'continue') {
        if (!n.inFor) fail(`next: ${n.target} is only allowed inside a for loop`, n.line);
        continue;
      }
      if (!n.chain.some((l) => l.index.has(n.target))) {
        const where = ctx.names.has(n.target)
          ? 'is not reachable from here (next cannot jump into nested steps or out of a for loop)'
          : 'does not exist';
        fail(`next target "${n.target}" ${where} in workflow "${d.name}"`, n.line);
      }
    }
    workflows.set(d.name, { name: d.name, line: d.line, params: subs.get(d.name) as ParamDef[], steps });
  }
  return { workflows };
}

function parseParams(wf: string, node: LNode | undefined, lib: Library): ParamDef[] {
  if (!node) return [];
  if (node.kind !== 'seq') return fail(`params of "${wf}" must be a list`, node.line);
  return node.items.map((p) => {
    if (p.kind === 'scalar' && typeof p.value === 'string') return { name: p.value, required: true };
    if (p.kind === 'map' && p.entries.length === 1) {
      const e = p.entries[0] as { key: string; value: LNode; line: number };
      return { name: e.key, required: false, defaultValue: compileValue(e.value, lib) };
    }
    return fail(`bad parameter in "${wf}": use a name or {name: default}`, p.line);
  });
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

export function compileSteps(
  node: LNode & { kind: 'seq' },
  ctx: Ctx,
  outer: StepList[],
  inFor: boolean,
): StepList {
  const list: StepList = { steps: [], index: new Map() };
  const chain = [list, ...outer];
  for (const item of node.items) {
    if (item.kind !== 'map' || item.entries.length !== 1)
      fail('each step is a map with exactly one key, the step name', item.line);
    const {
      key: name,
      value,
      line,
    } = (item as LNode & { kind: 'map' }).entries[0] as { key: string; value: LNode; line: number };
    if (['end', 'break', 'continue'].includes(name))
      fail(`"${name}" is reserved and cannot name a step`, line);
    const prev = ctx.names.get(name);
    if (prev !== undefined) fail(`duplicate step name "${name}" (first defined on line ${prev})`, line);
    ctx.names.set(name, line);
    if (value.kind !== 'map') fail(`step "${name}" must be a map`, line);
    const step = compileStep(name, value as LNode & { kind: 'map' }, ctx, chain, inFor);
    list.index.set(name, list.steps.length);
    list.steps.push(step);
  }
  return list;
}

function compileStep(
  name: string,
  node: LNode & { kind: 'map' },
  ctx: Ctx,
  chain: StepList[],
  inFor: boolean,
): Step {
  const kinds = node.entries.filter((e) => (STEP_KINDS as readonly string[]).includes(e.key));
  if (kinds.length > 1)
    fail(`step "${name}" mixes ${kinds.map((k) => k.key).join(' and ')}; use one per step`, node.line);
  const kind = kinds[0]?.key;
  for (const e of node.entries) {
    if (e.key === kind) continue;
    const allowed = kind ? (ALLOWED_WITH[kind] ?? []) : ['next'];
    if (!allowed.includes(e.key)) {
      fail(
        `unsupported field "${e.key}" in step "${name}"${kind ? ` (a ${kind} step allows: ${allowed.join(', ') || 'nothing else'})` : ''}`,
        e.line,
      );
    }
  }
  const nextNode = entry(node, 'next');
  const step: Step = { name, line: node.line, body: { k: 'noop' } };
  if (nextNode) {
    step.next = scalarString(nextNode, 'next');
    ctx.nexts.push({ target: step.next, line: nextNode.line, chain, inFor });
  }
  if (!kind && !nextNode)
    fail(
      `step "${name}" does nothing: expected one of ${STEP_KINDS.filter((k) => k !== 'parallel').join(', ')}`,
      node.line,
    );
  if (kind) step.body = compileBody(kind, node, ctx, chain, inFor, name);
  return step;
}

export function scalarString(n: LNode, what: string): string {
  if (n.kind !== 'scalar' || typeof n.value !== 'string') return fail(`${what} must be a string`, n.line);
  return n.value;
}

export function compileBody(
  kind: string,
  node: LNode & { kind: 'map' },
  ctx: Ctx,
  chain: StepList[],
  inFor: boolean,
  name: string,
): StepBody {
  const v = entry(node, kind) as LNode;
  const keyLine = node.entries.find((e) => e.key === kind)?.line ?? v.line;
  switch (kind) {
    case 'parallel':
      return fail(
        `parallel steps are not supported by the local runtime (step "${name}"); run the branches sequentially or use a for loop`,
        keyLine,
      );
    case 'assign': {
      if (v.kind !== 'seq') fail('assign takes a list of {name: value}', v.line);
      const items = (v as LNode & { kind: 'seq' }).items;
      if (items.length > MAX_ASSIGNMENTS)
        fail(`assign has ${items.length} assignments; the limit is ${MAX_ASSIGNMENTS} per step`, v.line);
      return {
        k: 'assign',
        items: items.map((it) => {
          if (it.kind !== 'map' || it.entries.length !== 1)
            fail('each assignment is a single {name: value}', it.line);
          const e = (it as LNode & { kind: 'map' }).entries[0] as { key: string; value: LNode; line: number };
          return { target: parseTarget(e.key, e.line, ctx.lib), value: compileValue(e.value, ctx.lib) };
        }),
      };
    }
    case 'call':
      return compileCall(scalarString(v, 'call'), node, ctx, v.line);
    case 'switch': {
      if (v.kind !== 'seq') fail('switch takes a list of conditions', v.line);
      const items = (v as LNode & { kind: 'seq' }).items;
      if (items.length > MAX_SWITCH_CONDITIONS)
        fail(`switch has ${items.length} conditions; the limit is ${MAX_SWITCH_CONDITIONS}`, v.line);
      return { k: 'switch', cases: items.map((c) => compileCase(c, ctx, chain, inFor)) };
    }
    case 'for':
      return compileFor(v, ctx, keyLine);
    case 'raise':
      return { k: 'raise', value: compileValue(v, ctx.lib) };
    case 'return':
      return { k: 'return', value: compileValue(v, ctx.lib) };
    case 'steps':
      if (v.kind !== 'seq') fail('steps must be a list', v.line);
      return { k: 'steps', steps: compileSteps(v as LNode & { kind: 'seq' }, ctx, chain, inFor) };
    case 'try':
      return compileTry(node, ctx, chain, inFor, name);
  }
  return fail(`unsupported step kind ${kind}`, node.line);
}
