/**
 * Test support: fsouza/fake-gcs-server (built from the Go module proxy by
 * scripts/ensure-test-tools.sh) on a free loopback port, in memory, and a real
 * @google-cloud/storage client pointed at it. Missing binary → a clear failure, never a skip.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Storage } from '@google-cloud/storage';

const BIN =
  process.env.FAKE_GCS_SERVER ?? join(process.env.GOBIN ?? join(homedir(), 'go', 'bin'), 'fake-gcs-server');

export interface FakeGcs {
  endpoint: string;
  storage: Storage;
  stop(): void;
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export async function startFakeGcs(buckets: string[]): Promise<FakeGcs> {
  if (!existsSync(BIN))
    throw new Error(
      `fake-gcs-server not found at ${BIN}: run "bash scripts/ensure-test-tools.sh" (npm test does)`,
    );
  const port = await freePort();
  const args = ['-scheme', 'http', '-host', '127.0.0.1', '-port', String(port), '-backend', 'memory'];
  const server: ChildProcess = spawn(BIN, [...args, '-log-level', 'error'], { stdio: 'ignore' });
  const endpoint = `http://127.0.0.1:${port}`;
  const exited = new Promise<never>((_, reject) =>
    server.once('exit', (code) => reject(new Error(`fake-gcs-server exited with ${code}`))),
  );
  const up = (async () => {
    for (;;) {
      const ok = await fetch(`${endpoint}/storage/v1/b?project=test`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) return;
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  await Promise.race([up, exited]);
  const storage = new Storage({ apiEndpoint: endpoint, projectId: 'test', useAuthWithCustomEndpoint: false });
  for (const b of buckets) await storage.createBucket(b);
  return { endpoint, storage, stop: () => server.kill() };
}
