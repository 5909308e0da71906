import { compileAst, type Evaluator, expressionBody, type Library } from './expr/compile.ts';
import { type Expr, parseExpression } from './expr/parse.ts';
import {
  ALLOWED_WITH,
  type Ctx,
  compileValue,
  fail,
  LOAD_CONTEXT,
  STEP_KINDS,
  scalarString,
} from './loader-core.ts';
import type { AssignTarget, RetrySpec, StepBody, StepList, SwitchCase } from './program.ts';
import { Scope } from './scope.ts';
import { clone, isMap, type WfMap, type WfValue } from './values.ts';
import { entry, type LNode } from './yaml-tree.ts';

/** Load-time compilation of the compound step kinds: call, switch cases, for, try/retry/except. */

export function parseTarget(key: string, line: number, lib: Library): AssignTarget {
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

export function compileCall(fn: string, node: LNode & { kind: 'map' }, ctx: Ctx, line: number): StepBody {
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

export function compileCase(c: LNode, ctx: Ctx, chain: StepList[], inFor: boolean): SwitchCase {
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
    sc.body = ctx.compileBody(kinds[0].key, c, ctx, chain, inFor, `switch condition on line ${c.line}`);
  const nextNode = entry(c, 'next');
  if (nextNode) {
    sc.next = scalarString(nextNode, 'next');
    ctx.nexts.push({ target: sc.next, line: nextNode.line, chain, inFor });
  }
  if (!sc.body && !sc.next) fail('switch condition needs next, steps, assign, call, return or raise', c.line);
  return sc;
}

export function compileFor(v: LNode, ctx: Ctx, keyLine: number): StepBody {
  if (v.kind !== 'map') return fail('for takes a map with value, in or range, and steps', v.line);
  for (const e of v.entries) {
    if (!['value', 'index', 'in', 'range', 'steps'].includes(e.key))
      fail(`unsupported field "${e.key}" in for`, e.line);
  }
  const inNode = entry(v, 'in');
  const rangeNode = entry(v, 'range');
  const stepsNode = entry(v, 'steps');
  if (!!inNode === !!rangeNode) fail('for needs exactly one of "in" or "range"', keyLine);
  if (stepsNode?.kind !== 'seq') fail('for needs a "steps" list', keyLine);
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
    steps: ctx.compileSteps(stepsNode as LNode & { kind: 'seq' }, ctx, [], true),
  };
}

export function compileTry(
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
  const body = ctx.compileBody(kind, t, ctx, chain, inFor, name);
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
    if (steps?.kind !== 'seq') fail('except needs a "steps" list', ex.line);
    const asNode = entry(ex, 'as');
    out.except = {
      as: asNode ? scalarString(asNode, 'except as') : undefined,
      steps: ctx.compileSteps(steps as LNode & { kind: 'seq' }, ctx, chain, inFor),
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
