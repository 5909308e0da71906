import { VirtualClock } from '../context.ts';
import { WorkflowError } from '../errors.ts';
import { type ExecuteOptions, type LoadedWorkflow, loadWorkflowSource } from '../index.ts';
import { toJs } from '../values.ts';

export type Outcome =
  | { result: unknown }
  | { error: { tags: string[]; message: string; [k: string]: unknown } | unknown };

/** Runs a workflow snippet on a virtual clock and returns `{result}` or `{error}` like `workflow run`. */
export async function runSnippet(
  source: string,
  args?: unknown,
  options: ExecuteOptions = {},
): Promise<Outcome> {
  const wf: LoadedWorkflow = loadWorkflowSource(source);
  try {
    return { result: await wf.execute(args, { clock: new VirtualClock(), ...options }) };
  } catch (err) {
    if (err instanceof WorkflowError) return { error: toJs(err.value) };
    throw err;
  }
}

/** A one-step workflow returning `${src}`. */
export function exprWorkflow(src: string): string {
  return `main:\n  steps:\n    - r:\n        return: ${JSON.stringify(`\${${src}}`)}\n`;
}
