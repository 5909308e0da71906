/**
 * Pieces of bench:serve: the MiniLM workloads (short tickets; a mix with 400-token texts),
 * starting the servers under test (ours bundled like the container, the Python baseline),
 * autocannon load with steady-state throughput and CPU time per request (server and load
 * generator), and the bare session.run loop that sets the ceiling.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
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
function makeTexts(n: number, minWords: number, maxWords: number, seed0: number): string[] {
  let seed = seed0;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  return Array.from({ length: n }, () =>
    Array.from(
      { length: minWords + Math.floor(rand() * (maxWords - minWords + 1)) },
      () => WORDS[Math.floor(rand() * WORDS.length)],
    ).join(' '),
  );
}
/** Short support tickets, 8–40 words (~10–50 tokens). */
export const TEXTS = makeTexts(512, 8, 40, 42);
/** Long documents of ~400 tokens (these words are one token each, plus [CLS]/[SEP]). */
export const LONG_TEXTS = makeTexts(64, 390, 410, 7);
export type Workload = 'short' | 'mix';
/** One text per request; `mix` makes every fourth request a ~400-token text. */
export const BODIES: Record<Workload, string[]> = {
  short: TEXTS.map((t) => JSON.stringify({ instances: [t] })),
  mix: TEXTS.map((t, i) =>
    JSON.stringify({ instances: [i % 4 === 3 ? LONG_TEXTS[i % LONG_TEXTS.length] : t] }),
  ),
};

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

/** CPU seconds (user + system, all threads) a process has used so far, from /proc. */
export function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}
/** USER_HZ: 100 on every Linux this runs on (`getconf CLK_TCK`). */
const CLOCK_TICKS = 100;

/** This process's CPU seconds (the load generator's, or the bare session's threads). */
export const selfCpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

function rssMb(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
  } catch {
    return 0;
  }
}

/** `droptune-worker`: the service with onnxruntime in a worker thread (DROPTUNE_SERVE_INFERENCE_THREAD=worker). */
export type ServerKind = 'droptune' | 'droptune-worker' | 'droptune-int8' | 'python';

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
    kind !== 'python'
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
            DROPTUNE_SERVE_INFERENCE_THREAD: kind === 'droptune-worker' ? 'worker' : 'main',
            LOG_LEVEL: 'warn',
          },
        })
      : spawn(PY, [join(ROOT, 'bench/serve-baseline.py'), VERSION_DIR, String(port)], {
          cwd: ROOT,
          stdio: ['ignore', 'ignore', 'ignore'],
        });
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
  /** Server CPU time per request (limit: per sequence), all threads, in ms. */
  cpuMsPerReq: number;
  /** CPU cores the load generator used meanwhile (0 for the bare loop). */
  loadgenCores: number;
  /** Longest event-loop stall seen (bare loop only: does session.run block the loop?). */
  loopBlockedMs?: number;
}

/**
 * autocannon at `connections` for `seconds`, one text per request from `bodies`. Throughput,
 * latency and CPU come from the last two thirds of the window only: the first third is the
 * ramp-up while the first queue fills. CPU is read from /proc for the server (all its threads)
 * and from this process for the load generator, which shares the machine's cores.
 */
export async function load(
  server: Server,
  connections: number,
  seconds: number,
  bodies: readonly string[],
): Promise<Measured> {
  let i = 0;
  const done: { at: number; ms: number }[] = [];
  let bad = 0;
  let peakRss = 0;
  const pid = server.child.pid!;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, rssMb(pid));
  }, 200);
  const started = performance.now();
  let from = { at: Number.POSITIVE_INFINITY, server: 0, self: 0 };
  const steadyTimer = setTimeout(
    () => {
      from = { at: performance.now(), server: processCpuSeconds(pid), self: selfCpuSeconds() };
    },
    (seconds * 1000) / 3,
  );
  const instance = autocannon({
    url: `${server.url}/v1/models/${MODEL}:predict`,
    method: 'POST',
    connections,
    duration: seconds,
    // On a busy shared machine a queued request at concurrency 64 can take seconds; autocannon's
    // 10 s default would count it as an error rather than as the latency it is.
    timeout: 120,
    headers: { 'content-type': 'application/json' },
    requests: [
      { setupRequest: (req: Record<string, unknown>) => ({ ...req, body: bodies[i++ % bodies.length] }) },
    ],
  });
  instance.on('response', (_client, status, _bytes, ms) => {
    if (status === 200) done.push({ at: performance.now(), ms });
    else bad++;
  });
  const result = await instance;
  const ended = performance.now();
  const serverCpu = processCpuSeconds(pid) - from.server;
  const selfCpu = selfCpuSeconds() - from.self;
  clearInterval(sampler);
  clearTimeout(steadyTimer);
  await drained(server);
  if (bad > 0 || (result.errors as number) > 0) {
    throw new Error(
      `${server.kind}: ${bad} non-200 responses, ${String(result.errors)} errors at concurrency ${connections}`,
    );
  }
  if (!Number.isFinite(from.at)) from.at = started;
  const steady = done.filter((d) => d.at >= from.at);
  const ms = steady.map((d) => d.ms).sort((a, b) => a - b);
  const wall = (ended - from.at) / 1000;
  return {
    perS: steady.length / wall,
    p50: percentile(ms, 50),
    p95: percentile(ms, 95),
    p99: percentile(ms, 99),
    rssMb: peakRss,
    cpuMsPerReq: (serverCpu * 1000) / Math.max(1, steady.length),
    loadgenCores: selfCpu / wall,
  };
}

/**
 * Waits until the server has finished everything sent before: autocannon stops sending at the
 * deadline, but requests already queued (at concurrency 64, seconds of 400-token texts) would
 * otherwise run into the next measurement and count against whichever system comes next. Neither
 * server answers strictly in arrival order (droptune answers short groups first, uvicorn runs a
 * thread pool), so "done" is read from the server's CPU: under 2 % of a core for 300 ms.
 */
async function drained(server: Server): Promise<void> {
  const pid = server.child.pid!;
  const deadline = performance.now() + 300_000;
  for (;;) {
    const before = processCpuSeconds(pid);
    await sleep(300);
    if (processCpuSeconds(pid) - before < 0.006 || performance.now() > deadline) return;
  }
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
    const encode = (t: string) => tokenizer.encodeTruncated(t, config.maxLength).ids;
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
    const loop = monitorEventLoopDelay({ resolution: 1 });
    loop.enable();
    const cpu0 = selfCpuSeconds();
    const started = performance.now();
    while (performance.now() - started < seconds * 1000) {
      const b = next();
      const t0 = performance.now();
      await this.session.run(b);
      runs.push(performance.now() - t0);
      rows += batch;
    }
    const elapsed = (performance.now() - started) / 1000;
    const cpu = selfCpuSeconds() - cpu0;
    loop.disable();
    runs.sort((a, c) => a - c);
    return {
      perS: rows / elapsed,
      p50: percentile(runs, 50),
      p95: percentile(runs, 95),
      p99: percentile(runs, 99),
      rssMb: 0,
      cpuMsPerReq: (cpu * 1000) / rows,
      loadgenCores: 0,
      loopBlockedMs: loop.max / 1e6,
    };
  }

  dispose(): Promise<void> {
    return this.session.dispose();
  }
}
