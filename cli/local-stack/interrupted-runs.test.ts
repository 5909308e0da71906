import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../shared/db/pool.ts';
import { TEST_BACKENDS } from '../../shared/db/testing.ts';
import { createStore, type TrackingStore } from '../../shared/store/index.ts';
import { seedRun } from '../../web/testing/seed.ts';
import { LocalTrainingBackend } from '../../workflows/connectors/index.ts';
import { loadWorkflowSource } from '../../workflows/runtime/index.ts';
import { LocalExecutions } from './local-executions.ts';
import { failInterruptedRuns, failRunOfFailedExecution } from './recover-runs.ts';

/** A workflow that never ends on its own: the runtime's step limit stops it, skipping `except`. */
const ENDLESS = `
main:
  params: [args]
  steps:
    - guarded:
        try:
          steps:
            - spin:
                next: spin
        except:
          as: e
          steps:
            - never_reached_on_a_resource_limit:
                return: cleaned up
`;

describe('local runs the stack must end itself', () => {
  let db: Database;
  let store: TrackingStore;
  beforeAll(async () => {
    db = await TEST_BACKENDS[0]!.open();
    store = createStore(db.pool);
  });
  afterAll(async () => db.close());

  it('fails runs left with the trigger (validating, no execution) at start', async () => {
    const validating = await seedRun(store, { modelName: 'stuck', status: 'validating' });
    const queued = await store.runs.create({
      modelName: 'stuck',
      datasetUri: 'file://datasets/stuck/b.csv',
      datasetGeneration: '1',
      params: {},
    });
    expect(queued.status).toBe('queued');
    expect(await failInterruptedRuns(store)).toBe(2);
    for (const run of [validating, queued]) {
      expect(await store.runs.get(run.runId)).toMatchObject({
        status: 'failed',
        error: expect.stringContaining('interrupted'),
      });
    }
  });

  it('fails the run and stops its trainer when the step limit stops the workflow', async () => {
    const run = await seedRun(store, { modelName: 'endless', status: 'training' });
    const home = mkdtempSync(join(tmpdir(), 'droptune-limit-'));
    const training = new LocalTrainingBackend({ home, faults: { hang: true } });
    await training.insert({
      project: 'local',
      zone: 'local-a',
      name: 'droptune-endless-1-1',
      provisioningModel: 'STANDARD',
      env: { DROPTUNE_RUN_ID: run.runId },
      body: {},
    });
    const executions = new LocalExecutions(
      loadWorkflowSource(ENDLESS),
      {},
      {},
      () => {},
      (exec) => failRunOfFailedExecution(store, training, exec),
    );
    const { executionId } = executions.start({ runId: run.runId });
    await executions.idle();
    expect(executions.get(executionId)).toMatchObject({ state: 'FAILED' });
    expect(await store.runs.get(run.runId)).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(/^the workflow execution stopped: .*steps.*its trainer was stopped$/),
    });
    expect(training.list()).toEqual([]);
  });
});
