import type { ExecContext } from '../context.ts';
import type { Scope } from '../scope.ts';
import type { WfValue } from '../values.ts';

/** The types compiled expressions share (compile.ts and compile-async.ts both use them). */

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
