/**
 * bench:serve — the prediction service against its ceiling and its baseline, in one run on one
 * machine and one MiniLM-sized model (6-layer BERT, all-MiniLM-L6-v2 weights, 3-class head):
 *
 * - limit: onnxruntime-node `session.run` in a tight loop (batch 1, 8 and the best batch ≤ 64) —
 *   what any server on this CPU could reach;
 * - droptune: the real service (bundled like the container, a child process) under autocannon at
 *   concurrency 1, 8, 64 — req/s, p50/p95/p99, server RSS; fp32 and int8;
 * - python: FastAPI + uvicorn doing per-request inference (bench/serve-baseline.py), onnxruntime
 *   and PyTorch, the same model files;
 * - cold start: process start → /readyz 200, ours vs Python.
 *
 * Writes bench/results/serve.json. BENCH_SECONDS sets each load phase (default 8).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import getPort from 'get-port';
import { availableCpus } from '../serving/model/cpus.ts';
import { createClassifierSession } from '../serving/model/onnx-session.ts';
import { loadTokenizer } from '../serving/model/tokenizer.ts';
import { padBatch, softmax } from '../serving/predictor.ts';
import { type BenchResult, printTable, writeResults } from './report.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const HOME = join(ROOT, '.cache/serve-bench');
const VERSION_DIR = join(HOME, 'buckets/models/models/bench-minilm/v1');
const TORCH_DIR = join(HOME, 'torch');
const MODEL_URI = 'file://models/models/bench-minilm/v1/';
const MODEL = 'bench-minilm';
const PY = join(ROOT, '.venv/bin/python');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const CONCURRENCY = [1, 8, 64] as const;
const THREADS = availableCpus();

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
const TEXTS = makeTexts(512);
const BODIES = TEXTS.map((t) => JSON.stringify({ instances: [t] }));

// ---------- helpers ----------
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
function rssMb(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
  } catch {
    return 0;
  }
}

async function waitReady(url: string, child: ChildProcess, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode} before ready`);
    try {
      if ((await fetch(`${url}/readyz`)).status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} not ready after ${timeoutMs} ms`);
    await sleep(10);
  }
}

interface Server {
  child: ChildProcess;
  url: string;
  coldStartS: number;
  stop(): Promise<void>;
}

async function startServer(kind: 'droptune' | 'droptune-int8' | 'python' | 'python-torch'): Promise<Server> {
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
          { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] },
        );
  const url = `http://127.0.0.1:${port}`;
  await waitReady(url, child);
  const coldStartS = (performance.now() - started) / 1000;
  return {
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

interface LoadResult {
  reqPerS: number;
  p50: number;
  p95: number;
  p99: number;
  rssMb: number;
}

async function load(server: Server, connections: number, seconds: number): Promise<LoadResult> {
  let i = 0;
  const latencies: number[] = [];
  let bad = 0;
  let peakRss = 0;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssMb(server.child.pid!))), 200);
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
    if (status === 200) latencies.push(ms);
    else bad++;
  });
  const result = await instance;
  const elapsed = (performance.now() - started) / 1000;
  clearInterval(sampler);
  if (bad > 0 || (result.errors as number) > 0)
    throw new Error(
      `${bad} non-200 responses and ${String(result.errors)} errors at concurrency ${connections}`,
    );
  latencies.sort((a, b) => a - b);
  return {
    reqPerS: latencies.length / elapsed,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    rssMb: peakRss,
  };
}

/** Cold start three times (median), then load at each concurrency on a fresh process. */
async function measureServer(kind: Parameters<typeof startServer>[0], concurrency: readonly number[]) {
  const cold: number[] = [];
  for (let n = 0; n < 3; n++) {
    const s = await startServer(kind);
    cold.push(s.coldStartS);
    await s.stop();
  }
  const server = await startServer(kind);
  const loads = new Map<number, LoadResult>();
  try {
    for (const c of concurrency) {
      await load(server, c, 1); // warm-up at this concurrency
      loads.set(c, await load(server, c, SECONDS));
      console.error(
        `[bench:serve] ${kind} c=${c}: ${loads.get(c)!.reqPerS.toFixed(1)} req/s, p50 ${loads.get(c)!.p50} ms`,
      );
    }
    return { coldStartS: median(cold), loads };
  } finally {
    await server.stop();
  }
}

/** session.run in a tight loop at each batch size; seq/s and per-run latency. */
async function limit(modelFile: string, batches: readonly number[]) {
  const config = JSON.parse(readFileSync(join(VERSION_DIR, 'config.json'), 'utf8')) as {
    maxLength: number;
    inputNames: string[];
  };
  const tokenizer = loadTokenizer(JSON.parse(readFileSync(join(VERSION_DIR, 'tokenizer.json'), 'utf8')));
  // Sorted by length, so each batch (a window of neighbours) has almost no padding: the best
  // case for batching, which makes this a true ceiling for any server fed the same texts.
  const ids = TEXTS.map((t) => tokenizer.truncate(tokenizer.encode(t), config.maxLength)).sort(
    (a, b) => a.length - b.length,
  );
  const session = await createClassifierSession(readFileSync(join(VERSION_DIR, modelFile)), {
    threads: THREADS,
    inputNames: config.inputNames,
    outputName: 'logits',
  });
  const out = new Map<number, { seqPerS: number; p50: number; p99: number }>();
  let cursor = 0;
  const nextBatch = (b: number) => {
    if (cursor + b > ids.length) cursor = 0;
    cursor += b;
    return padBatch(ids.slice(cursor - b, cursor), tokenizer.padId);
  };
  for (const b of batches) {
    for (let w = 0; w < 3; w++) await session.run(nextBatch(b));
    const runs: number[] = [];
    let rows = 0;
    const started = performance.now();
    while (performance.now() - started < Math.max(1500, SECONDS * 250)) {
      const batch = nextBatch(b);
      const t0 = performance.now();
      await session.run(batch);
      runs.push(performance.now() - t0);
      rows += b;
    }
    const elapsed = (performance.now() - started) / 1000;
    runs.sort((a, c) => a - c);
    out.set(b, { seqPerS: rows / elapsed, p50: percentile(runs, 50), p99: percentile(runs, 99) });
    console.error(
      `[bench:serve] limit ${modelFile} batch ${b}: ${(rows / elapsed).toFixed(1)} seq/s, run p50 ${percentile(runs, 50).toFixed(2)} ms`,
    );
  }
  // Reference probabilities for the correctness check against the served answers.
  const first = await session.run(
    padBatch([tokenizer.truncate(tokenizer.encode(TEXTS[0]!), config.maxLength)], tokenizer.padId),
  );
  const reference = softmax(first.logits, 0, first.numLabels);
  await session.dispose();
  return { byBatch: out, reference };
}

async function main(): Promise<void> {
  if (!existsSync(join(VERSION_DIR, 'manifest.json'))) {
    console.error('[bench:serve] building the MiniLM model version (one time, ~30 s)');
    execFileSync(PY, [join(ROOT, 'bench/serve-model.py'), VERSION_DIR, TORCH_DIR], { stdio: 'inherit' });
  }
  // Bundle the service exactly as the container runs it (one ESM file, node_modules external).
  await build({
    entryPoints: [join(ROOT, 'serving/main.ts')],
    outfile: join(HOME, 'dist/main.mjs'),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'warning',
  });

  const BATCHES = [1, 8, 16, 32, 64];
  const fp32Limit = await limit('model.onnx', BATCHES);
  const int8Limit = await limit('model.int8.onnx', [1, 32]);

  // Correctness: the server's answer for the first text equals the bare session's, within 1e-4.
  {
    const s = await startServer('droptune');
    const res = (await (
      await fetch(`${s.url}/v1/models/${MODEL}:predict`, { method: 'POST', body: BODIES[0] })
    ).json()) as {
      predictions: { scores: Record<string, number> }[];
    };
    await s.stop();
    const labels = JSON.parse(readFileSync(join(VERSION_DIR, 'labels.json'), 'utf8')) as string[];
    const diff = Math.max(
      ...labels.map((l, k) => Math.abs(res.predictions[0]!.scores[l]! - fp32Limit.reference[k]!)),
    );
    if (!(diff <= 1e-4)) throw new Error(`served probabilities differ from the bare session by ${diff}`);
  }

  const droptune = await measureServer('droptune', CONCURRENCY);
  const droptuneInt8 = await measureServer('droptune-int8', [1, 64]);
  const python = await measureServer('python', CONCURRENCY);
  const pythonTorch = await measureServer('python-torch', [1, 64]);

  const bestBatch = [...fp32Limit.byBatch.entries()].sort((a, b) => b[1].seqPerS - a[1].seqPerS)[0]![0];
  const limitAt = (c: number) => fp32Limit.byBatch.get(c === 1 ? 1 : c === 8 ? 8 : bestBatch)!;

  const results: BenchResult[] = [];
  const rows: (string | number)[][] = [];
  for (const c of CONCURRENCY) {
    const l = limitAt(c);
    results.push(
      {
        system: 'limit',
        metric: 'req_per_s',
        value: l.seqPerS,
        unit: 'seq/s',
        conditions: { concurrency: c, batch: c === 1 ? 1 : c === 8 ? 8 : bestBatch },
      },
      { system: 'limit', metric: 'p50_ms', value: l.p50, unit: 'ms', conditions: { concurrency: c } },
      { system: 'limit', metric: 'p99_ms', value: l.p99, unit: 'ms', conditions: { concurrency: c } },
    );
    rows.push([
      `limit (session.run, batch ${c === 1 ? 1 : c === 8 ? 8 : bestBatch})`,
      c,
      l.seqPerS,
      l.p50,
      '',
      l.p99,
      '',
    ]);
  }
  for (const [system, m] of [
    ['droptune', droptune],
    ['droptune-int8', droptuneInt8],
    ['python', python],
    ['python-torch', pythonTorch],
  ] as const) {
    for (const [c, r] of m.loads) {
      results.push(
        { system, metric: 'req_per_s', value: r.reqPerS, unit: 'req/s', conditions: { concurrency: c } },
        { system, metric: 'p50_ms', value: r.p50, unit: 'ms', conditions: { concurrency: c } },
        { system, metric: 'p95_ms', value: r.p95, unit: 'ms', conditions: { concurrency: c } },
        { system, metric: 'p99_ms', value: r.p99, unit: 'ms', conditions: { concurrency: c } },
        { system, metric: 'rss_mb', value: r.rssMb, unit: 'MB', conditions: { concurrency: c } },
      );
      rows.push([system, c, r.reqPerS, r.p50, r.p95, r.p99, r.rssMb]);
    }
    results.push({ system, metric: 'cold_start_s', value: m.coldStartS, unit: 's', conditions: {} });
  }
  results.push(
    {
      system: 'limit-int8',
      metric: 'req_per_s',
      value: int8Limit.byBatch.get(32)!.seqPerS,
      unit: 'seq/s',
      conditions: { batch: 32 },
    },
    {
      system: 'limit-int8',
      metric: 'p50_ms',
      value: int8Limit.byBatch.get(1)!.p50,
      unit: 'ms',
      conditions: { concurrency: 1 },
    },
  );

  const rps = (m: typeof droptune, c: number) => m.loads.get(c)!.reqPerS;
  const ratios = {
    vs_limit_c64: rps(droptune, 64) / limitAt(64).seqPerS,
    vs_python_c64: rps(droptune, 64) / rps(python, 64),
    int8_vs_fp32: rps(droptuneInt8, 64) / rps(droptune, 64),
    vs_python_torch_c64: rps(droptune, 64) / rps(pythonTorch, 64),
    c1_p50_over_bare_run_ms: droptune.loads.get(1)!.p50 - limitAt(1).p50,
    cold_start_vs_python: droptune.coldStartS / python.coldStartS,
    limit_int8_vs_fp32: int8Limit.byBatch.get(32)!.seqPerS / fp32Limit.byBatch.get(32)!.seqPerS,
  };

  console.log(
    `\nbench:serve — ${MODEL} (MiniLM-L6, 3 labels), ${THREADS} CPU threads, ${SECONDS} s per phase, one text per request\n`,
  );
  printTable(['system', 'concurrency', 'req/s', 'p50 ms', 'p95 ms', 'p99 ms', 'RSS MB'], rows);
  console.log('');
  printTable(
    ['cold start (spawn → /readyz 200)', 'seconds'],
    [
      ['droptune', droptune.coldStartS],
      ['droptune-int8', droptuneInt8.coldStartS],
      ['python (FastAPI + onnxruntime)', python.coldStartS],
      ['python (FastAPI + PyTorch)', pythonTorch.coldStartS],
    ],
  );
  console.log('');
  printTable(
    ['ratio', 'value', 'target'],
    [
      ['vs_limit_c64 (droptune c64 / session.run best batch)', ratios.vs_limit_c64, '>= 0.85'],
      ['vs_python_c64 (droptune / FastAPI+onnxruntime, c64)', ratios.vs_python_c64, '>= 3'],
      ['int8_vs_fp32 (droptune c64)', ratios.int8_vs_fp32, '>= 1.8'],
      ['vs_python_torch_c64', ratios.vs_python_torch_c64, ''],
      ['c1_p50_over_bare_run_ms', ratios.c1_p50_over_bare_run_ms, '<= 2'],
      ['cold_start_vs_python', ratios.cold_start_vs_python, ''],
      ['limit_int8_vs_fp32 (batch 32)', ratios.limit_int8_vs_fp32, ''],
    ],
  );
  console.log(`\nwrote ${writeResults('serve', results, ratios)}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
