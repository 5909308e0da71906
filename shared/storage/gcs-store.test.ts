/**
 * The gs:// adapter against a real GCS-compatible server: fsouza/fake-gcs-server (built from
 * the Go module proxy by scripts/ensure-test-tools.sh), driven by the real
 * @google-cloud/storage client through STORAGE_EMULATOR_HOST-style endpoint configuration.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Storage } from '@google-cloud/storage';
import { afterAll, beforeAll } from 'vitest';
import { GcsObjectStore } from './gcs-store.ts';
import { objectStoreContract } from './object-store.contract.ts';

const BIN =
  process.env.FAKE_GCS_SERVER ?? join(process.env.GOBIN ?? join(homedir(), 'go', 'bin'), 'fake-gcs-server');
let server: ChildProcess | undefined;
let store: GcsObjectStore;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

beforeAll(async () => {
  if (!existsSync(BIN)) {
    throw new Error(
      `fake-gcs-server not found at ${BIN}: run "bash scripts/ensure-test-tools.sh" (npm test does)`,
    );
  }
  const port = await freePort();
  server = spawn(
    BIN,
    [
      '-scheme',
      'http',
      '-host',
      '127.0.0.1',
      '-port',
      String(port),
      '-backend',
      'memory',
      '-log-level',
      'error',
    ],
    {
      stdio: 'ignore',
    },
  );
  const endpoint = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    const ok = await fetch(`${endpoint}/storage/v1/b?project=test`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const client = new Storage({ apiEndpoint: endpoint, projectId: 'test', useAuthWithCustomEndpoint: false });
  await client.createBucket('droptune-models-test');
  store = new GcsObjectStore(client);
});

afterAll(() => {
  server?.kill();
});

objectStoreContract('gs:// (fake-gcs-server)', () => ({ store, bucket: 'droptune-models-test' }), {
  // The adapter sends ifGenerationMatch=0 on the rewrite (the real GCS API honours it, see
  // File.copy in @google-cloud/storage); fake-gcs-server v1.56 ignores it on rewrites.
  copyPrecondition: 'fake-gcs-server ignores ifGenerationMatch on object rewrites',
});
