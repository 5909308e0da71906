import type { ExecContext } from '../context.ts';
import { WorkflowLoadError } from '../errors.ts';
import type { Scope } from '../scope.ts';
import { clone, type WfMap, type WfValue } from '../values.ts';
import { asyncEvaluator, callsSubworkflow, compileAsyncAst } from './compile-async.ts';
import { asBool, binary, getIndex, getKey, negate } from './ops.ts';
import { dottedName, type Expr, parseExpression } from './parse.ts';

/** A standard-library function. `params` name the arguments a `call` step may pass by name. */
export interface BuiltinFn {
  params: string[];
  /** Fewest arguments accepted; the most is `params.length`. */
  min: number;
  /** Blocking calls (HTTP, sleep, connectors) are only allowed in `call` steps, as in the cloud. */
  blocking?: boolean;
  fn: (args: WfValue[], scope: Scope<ExecContext>) => WfValue | Promise<WfValue>;
}

export interface Library {
  functions: ReadonlyMap<string, BuiltinFn>;
  /** Named values such as `http.default_retry`. */
  constants: ReadonlyMap<string, WfValue>;
  /** The file's subworkflows and their parameters, callable in expressions. */
  subworkflows?: ReadonlyMap<string, readonly { name: string; required: boolean }[]>;
}

/**
 * A compiled value. Most are synchronous; one that calls a subworkflow carries `async`, which
 * the interpreter awaits instead (the synchronous form then refuses to run).
 */
export type Evaluator = ((scope: Scope<ExecContext>) => WfValue) & {
  async?: (scope: Scope<ExecContext>) => Promise<WfValue>;
};

/** The value of a compiled expression, awaiting it when it calls a subworkflow. */
export function evaluate(ev: Evaluator, scope: Scope<ExecContext>): WfValue | Promise<WfValue> {
  return ev.async ? ev.async(scope) : ev(scope);
}

/** Compiles one `${...}` body once, at load time, into a closure; unknown functions fail here. */
export function compileExpression(src: string, lib: Library, line?: number): Evaluator {
  const ast = parseExpression(src, line);
  if (callsSubworkflow(ast, lib)) return asyncEvaluator(compileAsyncAst(ast, lib, src, line), src);
  return compileAst(ast, lib, src, line);
}

/** Compiles an already-parsed expression (used for assignment targets' index expressions). */
export function compileAst(e: Expr, lib: Library, src: string, line: number | undefined): Evaluator {
  const sub = (x: Expr): Evaluator => compileAst(x, lib, src, line);
  switch (e.k) {
    case 'lit': {
      const v = e.v;
      return () => v;
    }
    case 'var': {
      const name = e.name;
      if (lib.constants.has(name)) {
        const c = lib.constants.get(name) as WfValue;
        return () => clone(c);
      }
      return (s) => s.get(name);
    }
    case 'member': {
      const path = dottedName(e);
      if (path !== undefined && lib.constants.has(path)) {
        const c = lib.constants.get(path) as WfValue;
        return () => clone(c);
      }
      const obj = sub(e.obj);
      const name = e.name;
      return (s) => getKey(obj(s), name);
    }
    case 'index': {
      const obj = sub(e.obj);
      const idx = sub(e.idx);
      return (s) => getIndex(obj(s), idx(s));
    }
    case 'call': {
      const f = lib.functions.get(e.fn);
      if (!f) {
        throw new WorkflowLoadError(`expression \${${src}}: unknown function ${e.fn}()`, line);
      }
      if (f.blocking) {
        throw new WorkflowLoadError(
          `expression \${${src}}: ${e.fn} is a blocking call and can only be used in a call step`,
          line,
        );
      }
      if (e.args.length < f.min || e.args.length > f.params.length) {
        const want = f.min === f.params.length ? `${f.min}` : `${f.min} to ${f.params.length}`;
        throw new WorkflowLoadError(
          `expression \${${src}}: ${e.fn}() takes ${want} argument(s), got ${e.args.length}`,
          line,
        );
      }
      const args = e.args.map(sub);
      const fn = f.fn;
      return (s) =>
        fn(
          args.map((a) => a(s)),
          s,
        ) as WfValue;
    }
    case 'unary': {
      const x = sub(e.e);
      if (e.op === '-') return (s) => negate(x(s));
      if (e.op === '+') return (s) => negate(negate(x(s)));
      return (s) => !asBool(x(s), 'operand of not');
    }
    case 'bin': {
      const l = sub(e.l);
      const r = sub(e.r);
      const op = e.op;
      if (op === 'and') return (s) => asBool(l(s), 'operand of and') && asBool(r(s), 'operand of and');
      if (op === 'or') return (s) => asBool(l(s), 'operand of or') || asBool(r(s), 'operand of or');
      return (s) => binary(op, l(s), r(s));
    }
    case 'list': {
      const items = e.items.map(sub);
      return (s) => items.map((i) => i(s));
    }
    case 'map': {
      const entries = e.entries.map(([k, v]) => [k, sub(v)] as const);
      return (s) => {
        const out: WfMap = {};
        for (const [k, v] of entries) out[k] = v(s);
        return out;
      };
    }
  }
}

/** Matches a whole-value expression `${...}`; other strings are literals, as in the cloud. */
export function expressionBody(v: string): string | undefined {
  const t = v.trim();
  if (t.startsWith('${') && t.endsWith('}')) return t.slice(2, -1);
  return undefined;
}
