import { isTerminal, RUN_STATUSES } from '../../shared/contracts/run-status.ts';
import type { TrackingStore } from '../../shared/store/index.ts';

/**
 * Runs whose local workflow execution died with the previous stack process can never finish
 * (in the cloud, executions outlive any one process; here they live in the stack's process).
 * On start, each such run is failed with a reason that says what to do, so nothing waits
 * forever on it. Returns how many were failed.
 */
export async function failInterruptedRuns(store: TrackingStore): Promise<number> {
  const live = RUN_STATUSES.filter((s) => !isTerminal(s));
  const runs = await store.runs.list({ status: live, limit: 10_000 });
  let failed = 0;
  for (const run of runs) {
    // A run without an execution is still with the trigger, which runs in the stack's process:
    // at start no delivery can hold it, and its lease would answer 503 to every redelivery.
    const withTrigger = !run.executionId && (run.status === 'queued' || run.status === 'validating');
    if (!run.executionId?.startsWith('local-') && !withTrigger) continue;
    await store.runs.transition(run.runId, 'failed', {
      error: `interrupted: the local stack stopped while the run was ${run.status}; drop or submit the file again to retrain`,
    });
    failed++;
  }
  return failed;
}

/**
 * After a workflow execution failed: if its run is still live (the runtime stopped the execution
 * without running its `except` steps, e.g. the step limit), fail the run with the execution's
 * reason and stop its trainer, as the pipeline's own failure path would have.
 */
export async function failRunOfFailedExecution(
  store: TrackingStore,
  training: { deleteForRun(runId: string): Promise<number> },
  exec: { argument: unknown; error?: { message: string } },
): Promise<void> {
  const runId = (exec.argument as { runId?: unknown } | null)?.runId;
  if (typeof runId !== 'string') return;
  await training.deleteForRun(runId);
  const run = await store.runs.get(runId);
  if (isTerminal(run.status)) return;
  await store.runs.transition(runId, 'failed', {
    error: `the workflow execution stopped: ${exec.error?.message ?? 'unknown error'}; its trainer was stopped`,
  });
}
