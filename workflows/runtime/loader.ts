import { type ExecContext, realClock } from './context.ts';
import { WorkflowLoadError } from './errors.ts';
import {
  compileAst,
  compileExpression,
  type Evaluator,
  expressionBody,
  type Library,
} from './expr/compile.ts';
import { type Expr, parseExpression } from './expr/parse.ts';
import type {
  AssignTarget,
  ParamDef,
  Program,
  RetrySpec,
  Step,
  StepBody,
  StepList,
  SwitchCase,
  WorkflowDef,
} from './program.ts';
import { Scope } from './scope.ts';
import { clone, isMap, type WfMap, type WfValue } from './values.ts';
import { entry, type LNode, parseYamlTree } from './yaml-tree.ts';

/** Cloud limits enforced at load (quotas page): assignments per step, conditions per switch. */
export const MAX_ASSIGNMENTS = 50;
export const MAX_SWITCH_CONDITIONS = 50;

const STEP_KINDS = [
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
const ALLOWED_WITH: Record<string, string[]> = {
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

interface Ctx {
  lib: Library;
  subs: Map<string, ParamDef[]>;
  names: Map<string, number>;
  nexts: { target: string; line: number; chain: StepList[]; inFor: boolean }[];
}

/** Context for the few values evaluated at load time (retry policies): no env, no I/O. */
const LOAD_CONTEXT: ExecContext = {
  env: {},
  clock: realClock,
  log: () => {},
  signal: new AbortController().signal,
};

const fail = (msg: string, line: number): never => {
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
  const main = subs.get('main') as ParamDef[];
  if (main.length > 1)
    fail(
      'main takes at most one parameter (the execution argument)',
      defs.find((d) => d.name === 'main')?.line ?? 1,
    );

  const workflows = new Map<string, WorkflowDef>();
  for (const d of defs) {
    const stepsNode = entry(d.node, 'steps');
    if (!stepsNode || stepsNode.kind !== 'seq') fail(`workflow "${d.name}" needs a "steps" list`, d.line);
    const ctx: Ctx = { lib, subs, names: new Map(), nexts: [] };
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
    return (s) => items.map((i) => i(s));
  }
  const entries = node.entries.map((e) => [e.key, compileValue(e.value, lib)] as const);
  return (s) => {
    const out: WfMap = {};
    for (const [k, v] of entries) out[k] = v(s);
    return out;
  };
}

function compileSteps(node: LNode & { kind: 'seq' }, ctx: Ctx, outer: StepList[], inFor: boolean): StepList {
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

function scalarString(n: LNode, what: string): string {
  if (n.kind !== 'scalar' || typeof n.value !== 'string') return fail(`${what} must be a string`, n.line);
  return n.value;
}

function compileBody(
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

function parseTarget(key: string, line: number, lib: Library): AssignTarget {
  const ast = parseExpression(key, line);
  const path: (string | Evaluator)[] = [];
  let cur: Expr = ast;
  for (;;) {
    if (cur.k === 'member') {
      path.unshift(cur.name);
      cur = cur.obj;
    } else if (cur.k === 'index') {
      const idx: Expr = cur.idx;
      path.unshift(idx.k === 'lit' && typeof idx.v === 'string' ? idx.v : compileAst(idx, lib, key, line));
      cur = cur.obj;
    } else break;
  }
  if (cur.k !== 'var')
    return fail(`cannot assign to "${key}": expected a variable, map key or list index`, line);
  return { root: cur.name, path };
}

function compileCall(fn: string, node: LNode & { kind: 'map' }, ctx: Ctx, line: number): StepBody {
  const argsNode = entry(node, 'args');
  const resultNode = entry(node, 'result');
  const result = resultNode ? scalarString(resultNode, 'result') : undefined;
  if (argsNode && argsNode.kind !== 'map')
    fail(`args of call ${fn} must be a map of named arguments`, argsNode.line);
  const argEntries = argsNode ? (argsNode as LNode & { kind: 'map' }).entries : [];
  const named = new Map<string, Evaluator>(argEntries.map((e) => [e.key, compileValue(e.value, ctx.lib)]));
  const sub = ctx.subs.get(fn);
  if (sub) {
    if (fn === 'main') fail('main cannot be called as a subworkflow', line);
    for (const e of argEntries) {
      if (!sub.some((p) => p.name === e.key))
        fail(
          `subworkflow ${fn} has no parameter "${e.key}" (params: ${sub.map((p) => p.name).join(', ') || 'none'})`,
          e.line,
        );
    }
    for (const p of sub)
      if (p.required && !named.has(p.name)) fail(`call ${fn}: missing required argument "${p.name}"`, line);
    return { k: 'call', fn, kind: 'sub', args: [], named, result };
  }
  const builtin = ctx.lib.functions.get(fn);
  if (!builtin)
    return fail(
      `unknown function or subworkflow "${fn}" in call step (the local runtime binds the standard library, http.*, sys.* and the connectors it knows)`,
      line,
    );
  for (const e of argEntries) {
    if (!builtin.params.includes(e.key))
      fail(`${fn} has no argument "${e.key}" (arguments: ${builtin.params.join(', ') || 'none'})`, e.line);
  }
  const args = builtin.params.map((p) => named.get(p));
  let last = args.length;
  while (last > 0 && args[last - 1] === undefined) last--;
  if (last < builtin.min || args.slice(0, builtin.min).some((x) => x === undefined)) {
    fail(
      `call ${fn}: missing required argument(s) ${builtin.params
        .slice(0, builtin.min)
        .filter((p) => !named.has(p))
        .join(', ')}`,
      line,
    );
  }
  return { k: 'call', fn, kind: 'builtin', args: args.slice(0, last), named, result };
}

function compileCase(c: LNode, ctx: Ctx, chain: StepList[], inFor: boolean): SwitchCase {
  if (c.kind !== 'map') return fail('each switch entry is a map with "condition"', c.line);
  const condNode = entry(c, 'condition');
  if (!condNode) fail('switch entry without "condition"', c.line);
  const sc: SwitchCase = { line: c.line, condition: compileValue(condNode as LNode, ctx.lib) };
  const kinds = c.entries.filter(
    (e) => e.key !== 'condition' && e.key !== 'next' && e.key !== 'args' && e.key !== 'result',
  );
  for (const e of kinds) {
    if (!['steps', 'assign', 'call', 'return', 'raise'].includes(e.key))
      fail(`unsupported field "${e.key}" in switch condition`, e.line);
  }
  if (kinds.length > 1) fail(`switch condition mixes ${kinds.map((k) => k.key).join(' and ')}`, c.line);
  if (kinds[0])
    sc.body = compileBody(kinds[0].key, c, ctx, chain, inFor, `switch condition on line ${c.line}`);
  const nextNode = entry(c, 'next');
  if (nextNode) {
    sc.next = scalarString(nextNode, 'next');
    ctx.nexts.push({ target: sc.next, line: nextNode.line, chain, inFor });
  }
  if (!sc.body && !sc.next) fail('switch condition needs next, steps, assign, call, return or raise', c.line);
  return sc;
}

function compileFor(v: LNode, ctx: Ctx, keyLine: number): StepBody {
  if (v.kind !== 'map') return fail('for takes a map with value, in or range, and steps', v.line);
  for (const e of v.entries) {
    if (!['value', 'index', 'in', 'range', 'steps'].includes(e.key))
      fail(`unsupported field "${e.key}" in for`, e.line);
  }
  const inNode = entry(v, 'in');
  const rangeNode = entry(v, 'range');
  const stepsNode = entry(v, 'steps');
  if (!!inNode === !!rangeNode) fail('for needs exactly one of "in" or "range"', keyLine);
  if (!stepsNode || stepsNode.kind !== 'seq') fail('for needs a "steps" list', keyLine);
  const valueNode = entry(v, 'value');
  const indexNode = entry(v, 'index');
  if (!valueNode && !indexNode) fail('for needs "value" (and/or "index" for lists)', keyLine);
  if (rangeNode && indexNode) fail('"index" is not allowed with range; use value', indexNode.line);
  let range: [Evaluator, Evaluator] | undefined;
  if (rangeNode) {
    if (rangeNode.kind !== 'seq' || rangeNode.items.length !== 2)
      fail('range takes a list of two numbers [start, end]', rangeNode.line);
    const [a, b] = (rangeNode as LNode & { kind: 'seq' }).items as [LNode, LNode];
    range = [compileValue(a, ctx.lib), compileValue(b, ctx.lib)];
  }
  return {
    k: 'for',
    value: valueNode ? scalarString(valueNode, 'for value') : undefined,
    index: indexNode ? scalarString(indexNode, 'for index') : undefined,
    inList: inNode ? compileValue(inNode, ctx.lib) : undefined,
    range,
    steps: compileSteps(stepsNode as LNode & { kind: 'seq' }, ctx, [], true),
  };
}

function compileTry(
  node: LNode & { kind: 'map' },
  ctx: Ctx,
  chain: StepList[],
  inFor: boolean,
  name: string,
): StepBody {
  const t = entry(node, 'try') as LNode;
  if (t.kind !== 'map') return fail(`try in step "${name}" takes steps or a single call`, t.line);
  const kinds = t.entries.filter((e) => (STEP_KINDS as readonly string[]).includes(e.key));
  if (kinds.length !== 1) fail(`try in step "${name}" needs exactly one of steps, call, assign, …`, t.line);
  const kind = (kinds[0] as { key: string }).key;
  for (const e of t.entries) {
    if (e.key !== kind && !(ALLOWED_WITH[kind] ?? []).includes(e.key))
      fail(`unsupported field "${e.key}" in try`, e.line);
  }
  const body = compileBody(kind, t, ctx, chain, inFor, name);
  const out: StepBody & { k: 'try' } = { k: 'try', body };
  const retryNode = entry(node, 'retry');
  if (retryNode) out.retry = compileRetry(retryNode, ctx);
  const exceptNode = entry(node, 'except');
  if (exceptNode) {
    if (exceptNode.kind !== 'map') fail('except takes {as: name, steps: [...]}', exceptNode.line);
    const ex = exceptNode as LNode & { kind: 'map' };
    for (const e of ex.entries)
      if (e.key !== 'as' && e.key !== 'steps') fail(`unsupported field "${e.key}" in except`, e.line);
    const steps = entry(ex, 'steps');
    if (!steps || steps.kind !== 'seq') fail('except needs a "steps" list', ex.line);
    const asNode = entry(ex, 'as');
    out.except = {
      as: asNode ? scalarString(asNode, 'except as') : undefined,
      steps: compileSteps(steps as LNode & { kind: 'seq' }, ctx, chain, inFor),
    };
  }
  if (!out.retry && !out.except) fail(`try in step "${name}" needs retry or except`, node.line);
  return out;
}

function compileRetry(n: LNode, ctx: Ctx): RetrySpec {
  const evalConst = (node: LNode): WfValue => compileValue(node, ctx.lib)(new Scope(undefined, LOAD_CONTEXT));
  let policy: WfMap;
  let predNode: LNode | undefined;
  if (n.kind === 'scalar') {
    const v = (() => {
      try {
        return evalConst(n);
      } catch {
        return fail('retry must be a known policy such as ${http.default_retry} or a map', n.line);
      }
    })();
    if (!isMap(v)) return fail('retry must be a known policy such as ${http.default_retry} or a map', n.line);
    policy = clone(v) as WfMap;
  } else if (n.kind === 'map') {
    for (const e of n.entries) {
      if (!['predicate', 'max_retries', 'backoff'].includes(e.key))
        fail(`unsupported field "${e.key}" in retry`, e.line);
    }
    predNode = entry(n, 'predicate');
    policy = {};
  } else return fail('retry must be a policy expression or a map', n.line);

  let predicate: RetrySpec['predicate'];
  if (predNode) {
    const body =
      predNode.kind === 'scalar' && typeof predNode.value === 'string'
        ? expressionBody(predNode.value)
        : undefined;
    const pname = body?.trim();
    if (!pname || !/^[A-Za-z_][\w.]*$/.test(pname))
      return fail('retry predicate must be ${name} of a subworkflow or a built-in predicate', predNode.line);
    if (ctx.subs.has(pname)) predicate = { kind: 'sub', name: pname };
    else if (ctx.lib.functions.has(pname)) predicate = { kind: 'builtin', name: pname };
    else return fail(`unknown retry predicate "${pname}"`, predNode.line);
  } else if (typeof policy.predicate === 'string') {
    predicate = { kind: 'builtin', name: policy.predicate };
  } else return fail('retry needs a predicate', n.line);

  const pick = (key: string, fallback: WfValue, node?: LNode): Evaluator => {
    if (node) return compileValue(node, ctx.lib);
    const v = policy[key] ?? fallback;
    return () => v;
  };
  const backoffNode = n.kind === 'map' ? entry(n, 'backoff') : undefined;
  const bo = (k: string): LNode | undefined =>
    backoffNode && backoffNode.kind === 'map' ? entry(backoffNode, k) : undefined;
  const defaults = (isMap(policy.backoff ?? null) ? policy.backoff : {}) as WfMap;
  if (n.kind === 'map' && !entry(n, 'max_retries')) fail('retry needs max_retries', n.line);
  return {
    predicate,
    maxRetries: pick('max_retries', 0n, n.kind === 'map' ? entry(n, 'max_retries') : undefined),
    initialDelay: bo('initial_delay')
      ? compileValue(bo('initial_delay') as LNode, ctx.lib)
      : () => defaults.initial_delay ?? 1n,
    maxDelay: bo('max_delay')
      ? compileValue(bo('max_delay') as LNode, ctx.lib)
      : () => defaults.max_delay ?? 60n,
    multiplier: bo('multiplier')
      ? compileValue(bo('multiplier') as LNode, ctx.lib)
      : () => defaults.multiplier ?? 1.25,
  };
}
