import type { ExecContext } from '../context.ts';
import { WorkflowLoadError, wfError } from '../errors.ts';
import type { Scope } from '../scope.ts';
import { clone, type WfMap, type WfValue } from '../values.ts';
import type { Evaluator, Library } from './compile.ts';
import { asBool, binary, getIndex, getKey, negate } from './ops.ts';
import { dottedName, type Expr } from './parse.ts';

/**
 * Expressions that call a subworkflow (`${my_subworkflow(a, b)}`, documented Workflows syntax).
 * A subworkflow runs steps, so such an expression is evaluated asynchronously: every node
 * awaits its operands, in the same order and with the same short-circuiting (`and`, `or`) as
 * the synchronous compiler, and subworkflow calls go through the execution's interpreter.
 */
export type AsyncEvaluator = (scope: Scope<ExecContext>) => Promise<WfValue>;

/** True when the expression calls a subworkflow of this file (a standard function wins a name clash). */
export function callsSubworkflow(e: Expr, lib: Library): boolean {
  switch (e.k) {
    case 'call':
      return (
        (!lib.functions.has(e.fn) && (lib.subworkflows?.has(e.fn) ?? false)) ||
        e.args.some((a) => callsSubworkflow(a, lib))
      );
    case 'member':
      return callsSubworkflow(e.obj, lib);
    case 'index':
      return callsSubworkflow(e.obj, lib) || callsSubworkflow(e.idx, lib);
    case 'unary':
      return callsSubworkflow(e.e, lib);
    case 'bin':
      return callsSubworkflow(e.l, lib) || callsSubworkflow(e.r, lib);
    case 'list':
      return e.items.some((i) => callsSubworkflow(i, lib));
    case 'map':
      return e.entries.some(([, v]) => callsSubworkflow(v, lib));
    default:
      return false;
  }
}

/** An Evaluator whose synchronous form refuses (the interpreter awaits `.async` instead). */
export function asyncEvaluator(run: AsyncEvaluator, src: string): Evaluator {
  const ev: Evaluator = () => {
    throw wfError('SystemError', `expression \${${src}} calls a subworkflow and cannot be used here`);
  };
  ev.async = run;
  return ev;
}

export function compileAsyncAst(
  e: Expr,
  lib: Library,
  src: string,
  line: number | undefined,
): AsyncEvaluator {
  const sub = (x: Expr): AsyncEvaluator => compileAsyncAst(x, lib, src, line);
  switch (e.k) {
    case 'lit':
    case 'var': {
      const sync = syncLeaf(e, lib);
      return async (s) => sync(s);
    }
    case 'member': {
      const path = dottedName(e);
      if (path !== undefined && lib.constants.has(path)) {
        const c = lib.constants.get(path) as WfValue;
        return async () => clone(c);
      }
      const obj = sub(e.obj);
      return async (s) => getKey(await obj(s), e.name);
    }
    case 'index': {
      const [obj, idx] = [sub(e.obj), sub(e.idx)];
      return async (s) => getIndex(await obj(s), await idx(s));
    }
    case 'call':
      return compileCall(e, lib, src, line, sub);
    case 'unary': {
      const x = sub(e.e);
      if (e.op === '-') return async (s) => negate(await x(s));
      if (e.op === '+') return async (s) => negate(negate(await x(s)));
      return async (s) => !asBool(await x(s), 'operand of not');
    }
    case 'bin': {
      const [l, r] = [sub(e.l), sub(e.r)];
      const op = e.op;
      if (op === 'and')
        return async (s) => asBool(await l(s), 'operand of and') && asBool(await r(s), 'operand of and');
      if (op === 'or')
        return async (s) => asBool(await l(s), 'operand of or') || asBool(await r(s), 'operand of or');
      return async (s) => binary(op, await l(s), await r(s));
    }
    case 'list': {
      const items = e.items.map(sub);
      return async (s) => {
        const out: WfValue[] = [];
        for (const i of items) out.push(await i(s));
        return out;
      };
    }
    case 'map': {
      const entries = e.entries.map(([k, v]) => [k, sub(v)] as const);
      return async (s) => {
        const out: WfMap = {};
        for (const [k, v] of entries) out[k] = await v(s);
        return out;
      };
    }
  }
}

function syncLeaf(e: Expr & { k: 'lit' | 'var' }, lib: Library): (s: Scope<ExecContext>) => WfValue {
  if (e.k === 'lit') return () => e.v;
  if (lib.constants.has(e.name)) {
    const c = lib.constants.get(e.name) as WfValue;
    return () => clone(c);
  }
  return (s) => s.get(e.name);
}

function compileCall(
  e: Expr & { k: 'call' },
  lib: Library,
  src: string,
  line: number | undefined,
  sub: (x: Expr) => AsyncEvaluator,
): AsyncEvaluator {
  const args = e.args.map(sub);
  const values = async (s: Scope<ExecContext>): Promise<WfValue[]> => {
    const out: WfValue[] = [];
    for (const a of args) out.push(await a(s));
    return out;
  };
  const f = lib.functions.get(e.fn);
  if (f) {
    if (f.blocking)
      throw new WorkflowLoadError(
        `expression \${${src}}: ${e.fn} is a blocking call and can only be used in a call step`,
        line,
      );
    if (e.args.length < f.min || e.args.length > f.params.length)
      throw new WorkflowLoadError(
        `expression \${${src}}: ${e.fn}() takes ${f.min} to ${f.params.length} argument(s), got ${e.args.length}`,
        line,
      );
    return async (s) => (await f.fn(await values(s), s)) as WfValue;
  }
  const params = lib.subworkflows?.get(e.fn);
  if (!params) throw new WorkflowLoadError(`expression \${${src}}: unknown function ${e.fn}()`, line);
  const required = params.filter((p) => p.required).length;
  if (e.args.length < required || e.args.length > params.length) {
    throw new WorkflowLoadError(
      `expression \${${src}}: subworkflow ${e.fn} takes ${required === params.length ? required : `${required} to ${params.length}`} argument(s) (${params.map((p) => p.name).join(', ')}), got ${e.args.length}`,
      line,
    );
  }
  return async (s) => {
    const call = s.rt.callSubworkflow;
    if (!call) throw wfError('SystemError', `subworkflow ${e.fn} cannot be called here`);
    return call(e.fn, await values(s));
  };
}
