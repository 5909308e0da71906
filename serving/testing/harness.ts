/**
 * Test harness for the prediction service: stages the tiny model fixture as a registered
 * version in a temporary `$DROPTUNE_HOME` (read through the real `file://` adapter), and starts
 * the service in-process (real HTTP on loopback) or as a real child process (`serving/main.ts`).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { openStore } from '../../shared/storage/index.ts';
import { type ServingConfig, servingConfig } from '../config.ts';
import { loadModel } from '../model/load-model.ts';
import { ModelHost } from '../model-host.ts';
import { buildServer } from '../server.ts';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const FIXTURE_DIR = join(REPO_ROOT, 'serving/fixtures/tiny-model');

export interface GoldenCase {
  text: string;
  inputIds: number[];
  attentionMask: number[];
  logits: number[];
  probs: number[];
  label: string;
}
export interface Golden {
  maxLength: number;
  labels: string[];
  tolerance: number;
  cases: GoldenCase[];
}

export function readGolden(): Golden {
  return JSON.parse(readFileSync(join(FIXTURE_DIR, 'golden.json'), 'utf8')) as Golden;
}

export function fixtureModelName(fixtureDir = FIXTURE_DIR): string {
  return (JSON.parse(readFileSync(join(fixtureDir, 'manifest.json'), 'utf8')) as { modelName: string })
    .modelName;
}

export interface StagedModel {
  /** `$DROPTUNE_HOME` of the staged copy. */
  home: string;
  /** `file://models/models/<model>/v1/` */
  modelUri: string;
  /** The directory holding the version's files (tamper with them here). */
  dir: string;
  modelName: string;
  cleanup(): void;
}

/**
 * Copies a fixture version (default `tiny-model`; the per-task ones live beside it) to
 * `<tmp>/buckets/models/models/<model>/v1/`, as registration would.
 */
export function stageModel(fixtureDir = FIXTURE_DIR): StagedModel {
  const home = mkdtempSync(join(tmpdir(), 'droptune-serving-'));
  const modelName = fixtureModelName(fixtureDir);
  const dir = join(home, 'buckets', 'models', 'models', modelName, 'v1');
  cpSync(fixtureDir, dir, { recursive: true });
  return {
    home,
    modelUri: `file://models/models/${modelName}/v1/`,
    dir,
    modelName,
    cleanup: () => rmSync(home, { recursive: true, force: true }),
  };
}

/**
 * Rewrites the staged version's `config.json` with `patch` (a task, long-text settings,
 * thresholds) and its entry in `manifest.json`, so the version still verifies: the same
 * trained graph served under another config, for tests of what serving does per task.
 */
export function patchConfig(staged: StagedModel, patch: Record<string, unknown>): void {
  const configPath = join(staged.dir, 'config.json');
  const bytes = Buffer.from(
    JSON.stringify({ ...JSON.parse(readFileSync(configPath, 'utf8')), ...patch }, null, 2),
  );
  writeFileSync(configPath, bytes);
  const manifestPath = join(staged.dir, 'manifest.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as {
    files: { path: string; size: number; sha256: string }[];
  };
  const entry = manifest.files.find((f) => f.path === 'config.json')!;
  entry.size = bytes.length;
  entry.sha256 = createHash('sha256').update(bytes).digest('hex');
  writeFileSync(manifestPath, JSON.stringify(manifest, null, 2));
}

export interface InProcessServer {
  app: FastifyInstance;
  host: ModelHost;
  url: string;
  config: ServingConfig;
  close(): Promise<void>;
}

/** Builds, loads and listens on 127.0.0.1:<free port>. `load: false` leaves the model unloaded. */
export async function startInProcess(
  staged: StagedModel,
  overrides: Partial<ServingConfig> = {},
  options: { load?: boolean } = {},
): Promise<InProcessServer> {
  const config = servingConfig({ modelUri: staged.modelUri, logLevel: 'silent', threads: 1, ...overrides });
  const host = new ModelHost({
    maxBatch: config.maxBatch,
    maxBatchTokens: config.maxBatchTokens,
    maxWaitMs: config.maxWaitMs,
    maxQueue: config.maxQueue,
  });
  const app = buildServer({ config, host });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address() as { port: number };
  if (options.load !== false) {
    const ok = await host.load(() => {
      const { store, bucket, name } = openStore(config.modelUri, { home: staged.home });
      return loadModel(
        { store, bucket, prefix: name, uri: config.modelUri },
        { variant: config.variant, threads: config.threads || 1, inferenceThread: config.inferenceThread },
      );
    }, app.log);
    if (!ok) throw new Error(`fixture model did not load: ${host.failure}`);
  }
  return {
    app,
    host,
    url: `http://127.0.0.1:${address.port}`,
    config,
    close: async () => {
      await app.close();
      await host.dispose();
    },
  };
}

export interface ChildServer {
  child: ChildProcess;
  url: string;
  /** Every stdout line so far, parsed when JSON. */
  logs: Record<string, unknown>[];
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>;
}

/**
 * Spawns `node --import tsx serving/main.ts` with PORT=0 and waits for its `listening` log
 * line (and, unless `waitReady` is false, for `model ready`). This is exactly how the local
 * stack runs the service.
 */
export async function spawnServer(
  env: Record<string, string>,
  options: { waitReady?: boolean; timeoutMs?: number } = {},
): Promise<ChildServer> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'serving/main.ts')], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      PORT: '0',
      HOST: '127.0.0.1',
      DROPTUNE_SERVE_THREADS: '1',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  const exited = new Promise<number | string>((res) =>
    child.on('exit', (code, signal) => res(code ?? signal ?? 'unknown')),
  );
  let buffered = '';
  const waiters: (() => void)[] = [];
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    let nl = buffered.indexOf('\n');
    while (nl >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        logs.push({ raw: line });
      }
      for (const w of waiters.splice(0)) w();
      nl = buffered.indexOf('\n');
    }
  });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => {
    stderr += c.toString('utf8');
  });
  const until = async (pred: () => boolean, what: string) => {
    const deadline = Date.now() + (options.timeoutMs ?? 30_000);
    while (!pred()) {
      if (child.exitCode !== null)
        throw new Error(
          `server exited (${child.exitCode}) before ${what}; stderr: ${stderr}; logs: ${JSON.stringify(logs)}`,
        );
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${what}; logs: ${JSON.stringify(logs)}; stderr: ${stderr}`);
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 100);
      });
    }
  };
  await until(() => logs.some((l) => l.message === 'listening'), 'the listening line');
  const port = logs.find((l) => l.message === 'listening')!.port as number;
  if (options.waitReady !== false) {
    await until(
      () =>
        logs.some(
          (l) =>
            String(l.message).startsWith('model ready') || String(l.message).startsWith('model not loaded'),
        ),
      'the model to load',
    );
  }
  return { child, url: `http://127.0.0.1:${port}`, logs, exited };
}

/** POSTs JSON (or a raw string) and returns status, headers and the parsed body. */
export async function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = { 'content-type': 'application/json' },
) {
  const res = await fetch(url, {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return {
    status: res.status,
    headers: res.headers,
    text,
    json: json as Record<string, unknown> & { error?: { code: string; message: string } },
  };
}

/** Largest |scores[label] − expected[i]| over the labels (class-id order). */
export function maxProbDiff(
  scores: Record<string, number>,
  expected: readonly number[],
  labels: readonly string[],
): number {
  let worst = 0;
  for (let i = 0; i < labels.length; i++)
    worst = Math.max(worst, Math.abs((scores[labels[i]!] ?? Number.NaN) - expected[i]!));
  return Number.isNaN(worst) ? Number.POSITIVE_INFINITY : worst;
}
