/**
 * Pieces of bench:serve: the MiniLM workload, starting the servers under test (ours bundled
 * like the container, the Python baselines), autocannon load with steady-state throughput,
 * and the bare session.run loop that sets the ceiling.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import getPort from 'get-port';
import { availableCpus } from '../serving/model/cpus.ts';
import { type ClassifierSession, createClassifierSession } from '../serving/model/onnx-session.ts';
import { loadTokenizer } from '../serving/model/tokenizer.ts';
import { padBatch, softmax } from '../serving/predictor.ts';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const HOME = join(ROOT, '.cache/serve-bench');
export const VERSION_DIR = join(HOME, 'buckets/models/models/bench-minilm/v1');
export const TORCH_DIR = join(HOME, 'torch');
export const MODEL = 'bench-minilm';
export const PY = join(ROOT, '.venv/bin/python');
export const THREADS = availableCpus();
const MODEL_URI = `file://models/models/${MODEL}/v1/`;

type Autocannon = (opts: Record<string, unknown>) => {
  on(event: 'response', fn: (client: unknown, status: number, bytes: number, ms: number) => void): void;
  then: Promise<Record<string, unknown>>['then'];
};
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

// ---------- workload: short customer-support messages, 8–40 words ----------
const WORDS =
  'my order arrived late and the package was damaged please refund the payment I was charged twice for the subscription cannot log in to my account password reset email never came app crashes when I open settings delivery address is wrong tracking number does not work great service thanks'.split(
    ' ',
  );
function makeTexts(n: number): string[] {
  let seed = 42;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  return Array.from({ length: n }, () =>
    Array.from({ length: 8 + Math.floor(rand() * 33) }, () => WORDS[Math.floor(rand() * WORDS.length)]).join(
      ' ',
    ),
  );
}
export const TEXTS = makeTexts(512);
export const BODIES = TEXTS.map((t) => JSON.stringify({ instances: [t] }));

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

function rssMb(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
  } catch {
    return 0;
  }
}

export type ServerKind = 'droptune' | 'droptune-int8' | 'python' | 'python-torch';

export interface Server {
  kind: ServerKind;
  child: ChildProcess;
  url: string;
  /** Spawn → first /readyz 200. */
  coldStartS: number;
  stop(): Promise<void>;
}

/** Spawns a server on a free loopback port and waits until /readyz answers 200. */
export async function startServer(kind: ServerKind): Promise<Server> {
  const port = await getPort();
  const started = performance.now();
  const child =
    kind === 'droptune' || kind === 'droptune-int8'
      ? spawn(process.execPath, [join(HOME, 'dist/main.mjs')], {
          cwd: ROOT,
          stdio: ['ignore', 'ignore', 'inherit'],
          env: {
            ...process.env,
            MODEL_URI,
            DROPTUNE_HOME: HOME,
            PORT: String(port),
            HOST: '127.0.0.1',
            MODEL_VARIANT: kind === 'droptune-int8' ? 'int8' : 'fp32',
            LOG_LEVEL: 'warn',
          },
        })
      : spawn(
          PY,
          [
            join(ROOT, 'bench/serve-baseline.py'),
            VERSION_DIR,
            String(port),
            ...(kind === 'python-torch' ? ['--engine', 'torch', '--torch-dir', TORCH_DIR] : []),
          ],
          { cwd: ROOT, stdio: ['ignore', 'ignore', 'ignore'] },
        );
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 180_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${kind} exited with ${child.exitCode} before ready`);
    try {
      if ((await fetch(`${url}/readyz`)).status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${kind} not ready after 180 s`);
    await sleep(10);
  }
  const coldStartS = (performance.now() - started) / 1000;
  return {
    kind,
    child,
    url,
    coldStartS,
    stop: async () => {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

export interface Measured {
  /** Sequences (limit) or requests (servers) per second in steady state. */
  perS: number;
  p50: number;
  p95: number;
  p99: number;
  rssMb: number;
}

/**
 * autocannon at `connections` for `seconds`, one text per request. Throughput and latency come
 * from the last two thirds of the window only: the first third is the ramp-up while the first
 * queue fills (at concurrency 64 a response can take a second), which would otherwise count
 * against servers with long queues.
 */
export async function load(server: Server, connections: number, seconds: number): Promise<Measured> {
  let i = 0;
  const done: { at: number; ms: number }[] = [];
  let bad = 0;
  let peakRss = 0;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, rssMb(server.child.pid!));
  }, 200);
  const started = performance.now();
  const instance = autocannon({
    url: `${server.url}/v1/models/${MODEL}:predict`,
    method: 'POST',
    connections,
    duration: seconds,
    headers: { 'content-type': 'application/json' },
    requests: [
      { setupRequest: (req: Record<string, unknown>) => ({ ...req, body: BODIES[i++ % BODIES.length] }) },
    ],
  });
  instance.on('response', (_client, status, _bytes, ms) => {
    if (status === 200) done.push({ at: performance.now(), ms });
    else bad++;
  });
  const result = await instance;
  const ended = performance.now();
  clearInterval(sampler);
  if (bad > 0 || (result.errors as number) > 0) {
    throw new Error(
      `${server.kind}: ${bad} non-200 responses, ${String(result.errors)} errors at concurrency ${connections}`,
    );
  }
  const from = started + (ended - started) / 3;
  const steady = done.filter((d) => d.at >= from);
  const ms = steady.map((d) => d.ms).sort((a, b) => a - b);
  return {
    perS: steady.length / ((ended - from) / 1000),
    p50: percentile(ms, 50),
    p95: percentile(ms, 95),
    p99: percentile(ms, 99),
    rssMb: peakRss,
  };
}

/** Bare onnxruntime-node sessions (fp32 or int8) run in a tight loop: the ceiling. */
export class Limit {
  private constructor(
    private readonly session: ClassifierSession,
    private readonly ids: number[][],
    private readonly padId: number,
    /** Probabilities of TEXTS[0], to check the served answers. */
    readonly reference: Float64Array,
  ) {}

  static async open(modelFile: string): Promise<Limit> {
    const config = JSON.parse(readFileSync(join(VERSION_DIR, 'config.json'), 'utf8')) as {
      maxLength: number;
      inputNames: string[];
    };
    const tokenizer = loadTokenizer(JSON.parse(readFileSync(join(VERSION_DIR, 'tokenizer.json'), 'utf8')));
    const encode = (t: string) => tokenizer.truncate(tokenizer.encode(t), config.maxLength);
    const session = await createClassifierSession(readFileSync(join(VERSION_DIR, modelFile)), {
      threads: THREADS,
      inputNames: config.inputNames,
      outputName: 'logits',
    });
    const first = await session.run(padBatch([encode(TEXTS[0]!)], tokenizer.padId));
    // Sorted by length, so each batch (a window of neighbours) has almost no padding: the best
    // case for batching, which makes this a true ceiling for any server fed the same texts.
    const ids = TEXTS.map(encode).sort((a, b) => a.length - b.length);
    return new Limit(session, ids, tokenizer.padId, softmax(first.logits, 0, first.numLabels));
  }

  /** Sequences/s and per-run latency of `session.run` at `batch` for `seconds`. */
  async measure(batch: number, seconds: number): Promise<Measured> {
    let cursor = 0;
    const next = () => {
      if (cursor + batch > this.ids.length) cursor = 0;
      cursor += batch;
      return padBatch(this.ids.slice(cursor - batch, cursor), this.padId);
    };
    for (let w = 0; w < 2; w++) await this.session.run(next());
    const runs: number[] = [];
    let rows = 0;
    const started = performance.now();
    while (performance.now() - started < seconds * 1000) {
      const b = next();
      const t0 = performance.now();
      await this.session.run(b);
      runs.push(performance.now() - t0);
      rows += batch;
    }
    const elapsed = (performance.now() - started) / 1000;
    runs.sort((a, c) => a - c);
    return {
      perS: rows / elapsed,
      p50: percentile(runs, 50),
      p95: percentile(runs, 95),
      p99: percentile(runs, 99),
      rssMb: 0,
    };
  }

  dispose(): Promise<void> {
    return this.session.dispose();
  }
}
