import type { BuiltinFn } from '../runtime/expr/compile.ts';
import { fromJs } from '../runtime/values.ts';
import { googleHttpError } from './gcp-errors.ts';
import { strictConnector } from './strict-call.ts';

/** Workflow Executions v1 `Execution.state` values (from the discovery document). */
export type ExecutionState = 'ACTIVE' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';

interface ExecutionRecord {
  name: string;
  state: ExecutionState;
  startTime: Date;
  endTime?: Date;
}

/** `projects/<p>/locations/<l>/workflows/<w>/executions/<id>` from the built-in variables. */
export function executionName(
  env: Readonly<Record<string, string | undefined>>,
  executionId: string,
): string {
  const p = env.GOOGLE_CLOUD_PROJECT_ID ?? 'local';
  const l = env.GOOGLE_CLOUD_LOCATION ?? 'local';
  const w = env.GOOGLE_CLOUD_WORKFLOW_ID ?? 'local';
  return `projects/${p}/locations/${l}/workflows/${w}/executions/${executionId}`;
}

/** Where the executions.get twin finds an execution's state by its full resource name. */
export interface ExecutionLookup {
  state(name: string): ExecutionState | undefined;
}

/**
 * `googleapis.workflowexecutions.v1.projects.locations.workflows.executions.get` answered from
 * the executions the local runtime ran, so the reaper asks the same question locally as in the
 * cloud: is the run's execution still alive? Unknown executions are HTTP 404.
 */
export function executionsBindings(lookup: ExecutionLookup): Record<string, BuiltinFn> {
  const E = 'googleapis.workflowexecutions.v1.projects.locations.workflows.executions';
  return {
    [`${E}.get`]: strictConnector(`${E}.get`, ({ name }) => {
      const state = lookup.state(String(name));
      if (!state)
        throw googleHttpError(404, `Resource '${String(name)}' was not found`, 'notFound', 'NOT_FOUND');
      return fromJs({ name: String(name), state });
    }),
  };
}

/**
 * Tracks executions run in-process (ACTIVE while it runs, then SUCCEEDED, FAILED or CANCELLED)
 * by full resource name: the lookup the test harness gives the executions.get twin.
 */
export class ExecutionTracker implements ExecutionLookup {
  private readonly records = new Map<string, ExecutionRecord>();

  /** Runs `run` as execution `name`; a run that ends after `signal` aborted is CANCELLED. */
  async track<T>(name: string, run: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const record: ExecutionRecord = { name, state: 'ACTIVE', startTime: new Date() };
    this.records.set(name, record);
    try {
      const result = await run();
      record.state = 'SUCCEEDED';
      return result;
    } catch (err) {
      record.state = signal?.aborted ? 'CANCELLED' : 'FAILED';
      throw err;
    } finally {
      record.endTime = new Date();
    }
  }

  state(name: string): ExecutionState | undefined {
    return this.records.get(name)?.state;
  }
}
