import type { BuiltinFn } from './expr/compile.ts';
import { type ExecuteOptions, Interpreter } from './interpreter.ts';
import { loadWorkflow } from './loader.ts';
import type { Program } from './program.ts';
import { buildLibrary } from './stdlib/index.ts';
import { fromJs, toJs, type WfValue } from './values.ts';

export { type Clock, type ExecContext, type LogEntry, realClock, VirtualClock } from './context.ts';
export { WorkflowError, WorkflowLoadError, wfError } from './errors.ts';
export type { BuiltinFn } from './expr/compile.ts';
export { type ExecuteOptions, Interpreter } from './interpreter.ts';
export { fromJs, toJs, type WfMap, type WfValue } from './values.ts';

/** A workflow file loaded against a set of bindings, ready to run any number of executions. */
export interface LoadedWorkflow {
  program: Program;
  /** Runs one execution with plain-JS arguments; resolves to the plain-JS result. */
  execute(args?: unknown, options?: ExecuteOptions): Promise<unknown>;
}

/**
 * Loads workflow source with the standard library plus `bindings` (connector call names such
 * as `googleapis.compute.v1.instances.insert`). Unsupported syntax throws WorkflowLoadError.
 */
export function loadWorkflowSource(source: string, bindings: Record<string, BuiltinFn> = {}): LoadedWorkflow {
  const lib = buildLibrary(bindings);
  const program = loadWorkflow(source, lib);
  return {
    program,
    async execute(args?: unknown, options?: ExecuteOptions): Promise<unknown> {
      const interp = new Interpreter(program, lib, options);
      const result: WfValue = await interp.run(args === undefined ? null : fromJs(args));
      return toJs(result);
    },
  };
}
