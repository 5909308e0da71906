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
    if (!run.executionId?.startsWith('local-')) continue;
    await store.runs.transition(run.runId, 'failed', {
      error: `interrupted: the local stack stopped while the run was ${run.status}; drop or submit the file again to retrain`,
    });
    failed++;
  }
  return failed;
}
