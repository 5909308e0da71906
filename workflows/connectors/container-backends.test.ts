import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContainerServingBackend } from './container-serving.ts';
import { ContainerTrainingBackend, TRAINER_IMAGE_METADATA_KEY } from './container-training.ts';
import { imageDigest, runningLabelled, tinyFixturesInImage } from './podman.ts';
import { DeployError, type ServiceSpec } from './serving-backend.ts';
import type { InstanceSpec } from './training-backend.ts';

// The trainer and serving IMAGES (npm run images) run by the Compute and Cloud Run twins:
// podman containers, real training on a tiny model, a real revision behind its startup probe.
const REPO = resolve(import.meta.dirname, '../..');
const TRAINER = process.env.DROPTUNE_TRAINER_IMAGE ?? 'localhost/droptune-trainer:latest';
const SERVING = process.env.DROPTUNE_SERVING_IMAGE ?? 'localhost/droptune-serving:latest';
const MISSING = 'localhost/droptune-no-such-image:none';
let home: string;

beforeAll(async () => {
  for (const image of [TRAINER, SERVING]) {
    if (!(await imageDigest(image)))
      throw new Error(`image ${image} is not built: run "npm run images" first`);
  }
  home = mkdtempSync(join(tmpdir(), 'droptune-containers-'));
});
afterAll(() => rmSync(home, { recursive: true, force: true }));

/** Resolves once `check` holds, re-checking every 100 ms (the container's progress, not a timer). */
async function until(check: () => boolean | Promise<boolean>, what: string, limitMs = 300_000) {
  const deadline = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function instance(name: string, env: Record<string, string>, image = TRAINER): InstanceSpec {
  return {
    project: 'p',
    zone: 'z-a',
    name,
    provisioningModel: 'SPOT',
    env,
    body: {
      name,
      metadata: {
        items: [
          { key: TRAINER_IMAGE_METADATA_KEY, value: image },
          { key: 'droptune-trainer-env', value: JSON.stringify(env) },
        ],
      },
    },
  };
}

describe('ContainerTrainingBackend: the VM startup script runs the trainer image', {
  timeout: 600_000,
}, () => {
  it('trains a tiny model from a file:// dataset and writes the manifest', async () => {
    const buckets = join(home, 'buckets');
    mkdirSync(join(buckets, 'datasets', 'tiny'), { recursive: true });
    // The fixtures come from the image's own trainer code: no host Python needed.
    await tinyFixturesInImage(TRAINER, buckets, {
      baseModel: join(buckets, 'base/tiny-bert'),
      csv: join(buckets, 'datasets/tiny/train.csv'),
      rowsPerLabel: 12,
    });
    const backend = new ContainerTrainingBackend({ home });
    try {
      await backend.insert(
        instance('vm-train', {
          DROPTUNE_RUN_ID: 'r-container-1',
          DROPTUNE_DATASET_URI: 'file://datasets/tiny/train.csv',
          DROPTUNE_OUTPUT_URI: 'file://models/runs/r-container-1/',
          DROPTUNE_PARAMS: JSON.stringify({
            baseModel: `${buckets}/base/tiny-bert`,
            epochs: 1,
            batchSize: 8,
          }),
        }),
      );
      expect(backend.get('p', 'z-a', 'vm-train')?.status).toBe('RUNNING');
      await until(
        () => backend.get('p', 'z-a', 'vm-train')?.status === 'TERMINATED',
        'the trainer to finish',
      );
      const output = backend.lastOutput('p', 'z-a', 'vm-train', 20);
      expect(backend.get('p', 'z-a', 'vm-train')?.exitCode, output).toBe(0);
      const manifest = JSON.parse(
        readFileSync(join(buckets, 'models/runs/r-container-1/manifest.json'), 'utf8'),
      );
      expect(manifest.runId).toBe('r-container-1');
      expect(existsSync(join(buckets, 'models/runs/r-container-1/model.onnx'))).toBe(true);
    } finally {
      await backend.close();
    }
    expect(await runningLabelled(`droptune-session=${backend.session}`)).toEqual([]);
  });

  it('a missing image or a failing container ends TERMINATED non-zero with the reason', async () => {
    const crashing = new ContainerTrainingBackend({ home, faults: { crashWithExitCode: 3 } });
    const plain = new ContainerTrainingBackend({ home });
    try {
      await plain.insert(instance('vm-missing', { DROPTUNE_RUN_ID: 'r-missing' }, MISSING));
      await crashing.insert(instance('vm-crash', { DROPTUNE_RUN_ID: 'r-crash' }));
      await until(() => plain.get('p', 'z-a', 'vm-missing')?.status === 'TERMINATED', 'podman to give up');
      await until(() => crashing.get('p', 'z-a', 'vm-crash')?.status === 'TERMINATED', 'the crash');
      expect(plain.get('p', 'z-a', 'vm-missing')?.exitCode).toBe(125);
      expect(plain.lastOutput('p', 'z-a', 'vm-missing')).toMatch(/image not known|no such image/i);
      expect(crashing.get('p', 'z-a', 'vm-crash')?.exitCode).toBe(3);
    } finally {
      await Promise.all([plain.close(), crashing.close()]);
    }
  });

  it('delete stops a running trainer container and leaves none behind', async () => {
    const backend = new ContainerTrainingBackend({ home, faults: { hang: true }, stopGraceSeconds: 2 });
    const label = `droptune-session=${backend.session}`;
    try {
      await backend.insert(instance('vm-hang', { DROPTUNE_RUN_ID: 'r-hang' }));
      await until(async () => (await runningLabelled(label)).length === 1, 'the container to run');
      expect(await backend.delete('p', 'z-a', 'vm-hang')).toBe(true);
      expect(backend.get('p', 'z-a', 'vm-hang')).toBeUndefined();
      expect(await runningLabelled(label)).toEqual([]);
    } finally {
      await backend.close();
    }
  });
});

describe('ContainerServingBackend: the serving image as Cloud Run revisions', { timeout: 600_000 }, () => {
  const name = 'projects/p/locations/r/services/predict-fixture-model';
  const spec = (modelUri: string, image = SERVING, extra: Record<string, string> = {}): ServiceSpec => ({
    name,
    image,
    env: { MODEL_URI: modelUri, ...extra },
    body: { labels: { 'droptune-model': 'fixture-model' } },
  });

  it('serves behind its startup probe; failed revisions keep the ready one and leave no container', async () => {
    cpSync(join(REPO, 'serving/fixtures/tiny-model'), join(home, 'buckets/models/models/fixture-model/v1'), {
      recursive: true,
    });
    const serving = new ContainerServingBackend({ home, readyTimeoutMs: 120_000 });
    const label = `droptune-session=${serving.session}`;
    try {
      const created = await serving.create(spec('file://models/models/fixture-model/v1/'));
      const predict = async () => {
        const res = await fetch(`${created.uri}/v1/models/fixture-model:predict`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ instances: ['I was charged twice, please refund one payment.'] }),
        });
        return { status: res.status, body: (await res.json()) as { predictions?: unknown[] } };
      };
      const first = await predict();
      expect(first.status).toBe(200);
      expect(first.body.predictions).toHaveLength(1);

      // A model that fails to load, then an image that does not exist: both fail the deploy.
      await expect(serving.update(spec('file://models/models/fixture-model/v9/'))).rejects.toThrow(
        /not ready.*failed to load/s,
      );
      const missing = serving.update(spec('file://models/models/fixture-model/v1/', MISSING));
      await expect(missing).rejects.toBeInstanceOf(DeployError);
      await expect(missing).rejects.toThrow(/exited with code 125.*image not known/s);
      expect(serving.get(name)?.latestReadyRevision).toBe(created.latestReadyRevision);
      expect((await predict()).status).toBe(200);
      expect(await runningLabelled(label)).toHaveLength(1);
    } finally {
      await serving.close();
    }
    expect(await runningLabelled(label)).toEqual([]);
  });

  it('a revision whose startup probe never passes fails the deploy and is removed', async () => {
    // A storage endpoint that accepts connections and never answers: the model never loads.
    const sockets: Socket[] = [];
    const silent: Server = createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    const serving = new ContainerServingBackend({ home, readyTimeoutMs: 15_000 });
    const label = `droptune-session=${serving.session}`;
    try {
      await expect(
        serving.create(
          spec('gs://models/models/fixture-model/v1/', SERVING, {
            STORAGE_EMULATOR_HOST: `http://127.0.0.1:${port}`,
          }),
        ),
      ).rejects.toThrow(/was not ready within 15000 ms/);
      expect(await runningLabelled(label)).toEqual([]);
    } finally {
      await serving.close();
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
    }
  });
});
