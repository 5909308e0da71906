import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileObjectStore } from '../../shared/storage/index.ts';
import type { ObjectStore } from '../../shared/storage/object-store.ts';
import {
  loadWorkflowSource,
  toJs,
  VirtualClock,
  WorkflowError,
  WorkflowLoadError,
} from '../runtime/index.ts';
import { findMethod, VENDORED_APIS } from './discovery.ts';
import { localBindings } from './index.ts';
import { LocalServingBackend } from './serving-backend.ts';
import { LocalTrainingBackend } from './training-backend.ts';

// The twins check every googleapis.* call against Google's discovery documents and answer what
// the real connectors answer. None of these cases starts a trainer: the checks come first.
const homes: string[] = [];
afterEach(() => {
  for (const h of homes.splice(0)) rmSync(h, { recursive: true, force: true });
});
function home(): string {
  const h = mkdtempSync(join(tmpdir(), 'droptune-strict-'));
  homes.push(h);
  return h;
}

type Bindings = Parameters<typeof loadWorkflowSource>[1];
async function run(yaml: string, bindings: Bindings) {
  try {
    return {
      result: await loadWorkflowSource(yaml, bindings).execute(null, { clock: new VirtualClock() }),
    };
  } catch (err) {
    if (err instanceof WorkflowError) return { error: toJs(err.value) as Record<string, any> };
    throw err;
  }
}

const compute = () =>
  localBindings({ training: new LocalTrainingBackend({ home: home(), python: 'false' }) });

const insertWith = (scheduling: string) => `
- insert:
    call: googleapis.compute.v1.instances.insert
    args:
      project: p
      zone: z-a
      body:
        name: vm-1
        scheduling: ${scheduling}
        metadata: {items: [{key: droptune-trainer-env, value: "{}"}]}`;

describe('connector calls are checked against the discovery documents', () => {
  it('vendors every API the pipeline calls, with its revision', () => {
    for (const api of VENDORED_APIS) {
      const { doc } = findMethod(
        {
          'compute.v1': 'googleapis.compute.v1.instances.insert',
          'run.v2': 'googleapis.run.v2.projects.locations.services.create',
          'storage.v1': 'googleapis.storage.v1.objects.get',
          'workflowexecutions.v1':
            'googleapis.workflowexecutions.v1.projects.locations.workflows.executions.get',
        }[api],
      );
      expect(doc.revision).toMatch(/^\d{8}$/);
    }
  });

  it('an unknown request-body field fails as Google answers it: HTTP 400 INVALID_ARGUMENT naming the field', async () => {
    const out = await run(insertWith('{provisioningModel: SPOT, maxRunDurationSeconds: 60}'), compute());
    expect(out.error).toMatchObject({
      tags: ['HttpError'],
      code: 400,
      body: {
        error: {
          code: 400,
          status: 'INVALID_ARGUMENT',
          message: `Invalid JSON payload received. Unknown name "maxRunDurationSeconds" at 'instance.scheduling': Cannot find field.`,
        },
      },
    });
  });

  it('a nested unknown field is found (recursively through lists and maps)', async () => {
    const serving = new LocalServingBackend({ home: home() });
    const out = await run(
      `
- create:
    call: googleapis.run.v2.projects.locations.services.create
    args:
      parent: projects/p/locations/r
      serviceId: predict-x
      body:
        labels: {droptune-model: x}
        template:
          containers:
            - image: img
              startupProbe: {httpGet: {path: /readyz}, periodSecond: 2}`,
      localBindings({ serving }),
    );
    expect(out.error?.body.error.message).toBe(
      `Invalid JSON payload received. Unknown name "periodSecond" at 'service.template.containers[0].startupProbe': Cannot find field.`,
    );
    expect(serving.list()).toEqual([]);
  });

  it('a wrong enum value or type is refused with the field path', async () => {
    const bad = await run(insertWith('{provisioningModel: SPOTT}'), compute());
    expect(bad.error?.code).toBe(400);
    expect(bad.error?.body.error.message).toMatch(
      /^Invalid value at 'instance\.scheduling\.provisioningModel' \(one of .*SPOT.*\), "SPOTT"$/,
    );
    const type = await run(insertWith('{automaticRestart: "no"}'), compute());
    expect(type.error?.body.error.message).toMatch(/'instance\.scheduling\.automaticRestart' \(TYPE_BOOL\)/);
  });

  it('int64 fields take an integer or a numeric string, as proto3 JSON does', async () => {
    const out = await run(insertWith('{maxRunDuration: {seconds: "abc"}}'), compute());
    expect(out.error?.body.error.message).toMatch(
      /'instance\.scheduling\.maxRunDuration\.seconds' \(TYPE_INT64\)/,
    );
  });

  it('an argument the method does not have fails when the workflow loads', () => {
    expect(() =>
      loadWorkflowSource(
        `- g:\n    call: googleapis.compute.v1.instances.get\n    args: {project: p, zone: z, instance: i, region: r}`,
        compute(),
      ),
    ).toThrow(WorkflowLoadError);
    expect(() =>
      loadWorkflowSource(
        `- g:\n    call: googleapis.compute.v1.instances.get\n    args: {project: p, zone: z}`,
        compute(),
      ),
    ).toThrow(/missing required argument\(s\) instance/);
  });

  it('a standard parameter is checked too (alt is json or media)', async () => {
    const store = new FileObjectStore(join(home(), 'buckets'));
    await store.write('models', 'x.json', '{"a": 1}');
    const out = await run(
      `- g:\n    call: googleapis.storage.v1.objects.get\n    args: {bucket: models, object: x.json, alt: text}`,
      localBindings({ store }),
    );
    expect(out.error?.body.error.message).toMatch(/^Invalid value at 'alt' \(one of json, media\), "text"$/);
  });
});

describe('storage objects.get alt=media answers by content type, like the real connector', () => {
  const read = `
- get:
    call: googleapis.storage.v1.objects.get
    args: {bucket: models, object: '\${text.url_encode("runs/r/manifest.json")}', alt: media}
    result: content
- answer:
    return: '\${[type(content), json.decode(content)]}'`;

  it('an object uploaded without a JSON content type comes back as bytes', async () => {
    const store = new FileObjectStore(join(home(), 'buckets'));
    await store.write('models', 'runs/r/manifest.json', '{"version": 1}');
    const out = await run(read, localBindings({ store }));
    expect(out).toEqual({ result: ['bytes', { version: 1 }] });
  });

  it('an application/json object comes back parsed (a map)', async () => {
    const files = new FileObjectStore(join(home(), 'buckets'));
    await files.write('models', 'runs/r/manifest.json', '{"version": 1}');
    // The file backend keeps no content type; this store reports the one GCS would have recorded.
    const store: ObjectStore = Object.assign(Object.create(files), {
      stat: async (bucket: string, name: string) => ({
        ...(await files.stat(bucket, name)),
        contentType: 'application/json; charset=utf-8',
      }),
    });
    const out = await run(read.replace('json.decode(content)', 'content'), localBindings({ store }));
    expect(out).toEqual({ result: ['map', { version: 1 }] });
  });
});
