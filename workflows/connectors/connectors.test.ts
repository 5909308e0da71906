import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileObjectStore } from '../../shared/storage/index.ts';
import { loadWorkflowSource, toJs, VirtualClock, WorkflowError } from '../runtime/index.ts';
import { PYTHON } from '../test-support/pipeline-harness.ts';
import { localBindings } from './index.ts';
import { LocalServingBackend } from './serving-backend.ts';
import { LocalTrainingBackend, type TrainingFaults } from './training-backend.ts';

// The connector call names as a workflow sees them, bound to the local backends (real child
// processes): results and errors shaped like the cloud connectors' (Operation, OperationError,
// HttpError with the API's error body).
const REPO = resolve(import.meta.dirname, '../..');
const homes: string[] = [];
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
  for (const h of homes.splice(0)) rmSync(h, { recursive: true, force: true });
});

function home(): string {
  const h = mkdtempSync(join(tmpdir(), 'droptune-conn-'));
  homes.push(h);
  return h;
}

async function run(yaml: string, bindings: Parameters<typeof loadWorkflowSource>[1], args?: unknown) {
  try {
    return {
      result: await loadWorkflowSource(yaml, bindings).execute(args, {
        clock: new VirtualClock({ scale: 0.01 }),
      }),
    };
  } catch (err) {
    if (err instanceof WorkflowError) return { error: toJs(err.value) as Record<string, any> };
    throw err;
  }
}

function training(faults: TrainingFaults = {}, msPerSecond = 1000) {
  const backend = new LocalTrainingBackend({
    home: home(),
    python: PYTHON,
    cwd: join(REPO, 'training-image'),
    faults,
    msPerSecond,
  });
  closers.push(() => backend.close());
  return { backend, bindings: localBindings({ training: backend }) };
}

const insert = (zone: string, name = 'vm-1', extra = '') => `
    - insert:
        call: googleapis.compute.v1.instances.insert
        args:
          project: p
          zone: ${zone}
          body:
            name: ${name}
            scheduling:
              provisioningModel: SPOT${extra}
            metadata:
              items:
                - key: droptune-trainer-env
                  value: '{"DROPTUNE_RUN_ID": "r-1"}'
        result: op`;

describe('compute connector → LocalTrainingBackend', { timeout: 60_000 }, () => {
  it('raises OperationError with the operation error code on a zone stockout', async () => {
    const { bindings } = training({ exhaustedZones: ['z-a'] });
    const out = await run(`main:\n  steps:${insert('z-a')}`, bindings);
    expect(out.error?.tags).toEqual(['OperationError']);
    expect(out.error?.operation.status).toBe('DONE');
    expect(out.error?.operation.error.errors[0].code).toBe('ZONE_RESOURCE_POOL_EXHAUSTED');
  });

  it('raises HttpError 403 quotaExceeded when the GPU quota is out', async () => {
    const { bindings } = training({ quotaExceededZones: ['z-a'] });
    const out = await run(`main:\n  steps:${insert('z-a')}`, bindings);
    expect(out.error).toMatchObject({
      tags: ['HttpError'],
      code: 403,
      body: { error: { errors: [{ reason: 'quotaExceeded' }] } },
    });
  });

  it('insert → RUNNING → TERMINATED after the trainer exits → delete → 404', async () => {
    const { backend, bindings } = training({ crashWithExitCode: 0 });
    const out = await run(
      `main:
  steps:${insert('z-a')}
    - again:
        try:
          call: googleapis.compute.v1.instances.insert
          args: {project: p, zone: z-a, body: '\${ {"name": "vm-1", "metadata": {"items": [{"key": "droptune-trainer-env", "value": "{}"}]}} }'}
        except:
          as: dup
          steps:
            - noted:
                assign:
                  - dupCode: \${dup.code}
    - poll:
        call: googleapis.compute.v1.instances.get
        args: {project: p, zone: z-a, instance: vm-1}
        result: vm
    - wait:
        switch:
          - condition: \${vm.status != "TERMINATED"}
            steps:
              - nap:
                  call: sys.sleep
                  args: {seconds: 5}
            next: poll
    - delete:
        call: googleapis.compute.v1.instances.delete
        args: {project: p, zone: z-a, instance: vm-1}
        result: del
    - gone:
        try:
          call: googleapis.compute.v1.instances.get
          args: {project: p, zone: z-a, instance: vm-1}
        except:
          as: e
          steps:
            - r:
                return: '\${[op.status, op.operationType, dupCode, vm.status, vm.scheduling.provisioningModel, del.status, e.code]}'`,
      bindings,
    );
    expect(out).toEqual({ result: ['DONE', 'insert', 409, 'TERMINATED', 'SPOT', 'DONE', 404] });
    expect(backend.list()).toEqual([]);
  });

  it('rejects an insert without the trainer environment in metadata (HttpError 400)', async () => {
    const { bindings } = training();
    const out = await run(
      `- i:\n    call: googleapis.compute.v1.instances.insert\n    args: {project: p, zone: z, body: {name: vm}}`,
      bindings,
    );
    expect(out.error).toMatchObject({ tags: ['HttpError'], code: 400 });
    expect(out.error?.body.error.message).toMatch(/droptune-trainer-env/);
  });

  it('a VM past scheduling.maxRunDuration deletes itself', async () => {
    const { backend, bindings } = training({ hang: true }, 20);
    const out = await run(
      `main:\n  steps:${insert('z-a', 'vm-9', '\n              maxRunDuration: {seconds: 5}')}`,
      bindings,
    );
    expect(out).toHaveProperty('result');
    expect(backend.get('p', 'z-a', 'vm-9')?.status).toBe('RUNNING');
    await new Promise((r) => setTimeout(r, 1500));
    expect(backend.get('p', 'z-a', 'vm-9')).toBeUndefined();
  });
});

/** Resolves once `done()` holds, checking every 20 ms (waits on the backend's state, not a fixed time). */
async function until(done: () => boolean): Promise<void> {
  while (!done()) await new Promise((r) => setTimeout(r, 20));
}

describe('compute twin: preemption vs maxRunDuration', { timeout: 60_000 }, () => {
  it('a preemption is recorded as a compute.instances.preempted zone operation; a maxRunDuration deletion is not', async () => {
    const { backend, bindings } = training({ hang: true, preemptSpotAfterMs: 100 }, 20);
    await run(`main:\n  steps:${insert('z-a', 'vm-p')}`, bindings);
    await run(
      `main:\n  steps:${insert('z-a', 'vm-m', '\n              maxRunDuration: {seconds: 5}')}`,
      bindings,
    );
    await until(() => backend.list().length === 0);
    const out = await run(
      `- ops:
    call: googleapis.compute.v1.zoneOperations.list
    args: {project: p, zone: z-a, filter: 'operationType = "compute.instances.preempted"'}
    result: ops
- r:
    return: \${ops.items}`,
      bindings,
    );
    expect(out.result).toEqual([
      expect.objectContaining({
        operationType: 'compute.instances.preempted',
        targetLink: 'https://www.googleapis.com/compute/v1/projects/p/zones/z-a/instances/vm-p',
      }),
    ]);
  });
});

describe('Cloud Run v2 connector → LocalServingBackend', { timeout: 120_000 }, () => {
  it('serves a model at a stable URL; a failed rollout keeps the ready revision', async () => {
    const h = home();
    cpSync(join(REPO, 'serving/fixtures/tiny-model'), join(h, 'buckets/models/models/fixture-model/v1'), {
      recursive: true,
    });
    const serving = new LocalServingBackend({ home: h, cwd: REPO, readyTimeoutMs: 90_000 });
    closers.push(() => serving.close());
    const bindings = localBindings({ serving, store: new FileObjectStore(join(h, 'buckets')) });
    const service = (uri: string) =>
      `'\${ {"template": {"containers": [{"image": "serving:local", "env": [{"name": "MODEL_URI", "value": "${uri}"}], "startupProbe": {"httpGet": {"path": "/readyz"}}}]}} }'`;
    const out = await run(
      `main:
  steps:
    - create:
        call: googleapis.run.v2.projects.locations.services.create
        args:
          parent: projects/p/locations/r
          serviceId: predict-fixture-model
          body: ${service('file://models/models/fixture-model/v1/')}
        result: created
    - bad:
        try:
          call: googleapis.run.v2.projects.locations.services.patch
          args:
            name: projects/p/locations/r/services/predict-fixture-model
            body: ${service('file://models/models/fixture-model/v9/')}
        except:
          as: e
          steps:
            - keep:
                assign:
                  - failure: \${e}
    - get:
        call: googleapis.run.v2.projects.locations.services.get
        args:
          name: projects/p/locations/r/services/predict-fixture-model
        result: svc
    - ready:
        call: http.get
        args:
          url: \${svc.uri + "/readyz"}
        result: readyz
    - stored:
        call: googleapis.storage.v1.objects.get
        args:
          bucket: models
          object: \${text.url_encode("models/fixture-model/v1/labels.json")}
          alt: media
        result: labels
    - r:
        return: '\${[created.uri == svc.uri, failure.tags, svc.latestReadyRevision, svc.latestCreatedRevision, svc.terminalCondition.state, readyz.code, len(labels) > 1]}'`,
      bindings,
    );
    expect(out).toEqual({
      result: [
        true,
        ['OperationError'],
        'projects/p/locations/r/services/predict-fixture-model/revisions/predict-fixture-model-00001',
        'projects/p/locations/r/services/predict-fixture-model/revisions/predict-fixture-model-00002',
        'CONDITION_FAILED',
        200,
        true,
      ],
    });
  });
});
