/**
 * bench:serve — the prediction service against its ceiling and its baselines, in one run on one
 * machine and one MiniLM-sized model (6-layer BERT, all-MiniLM-L6-v2 weights, 3-class head):
 *
 * - limit: onnxruntime-node `session.run` in a tight loop (batch 1 for concurrency 1, batch 8
 *   for 8, the best batch ≤ 64 for 64) — what any server on this CPU could reach;
 * - droptune: the real service (bundled like the container, a child process) under autocannon at
 *   concurrency 1, 8, 64 — req/s, p50/p95/p99, server RSS; fp32 and int8;
 * - python: FastAPI + uvicorn doing per-request inference (bench/serve-baseline.py) with
 *   onnxruntime, and with PyTorch, on the same model;
 * - cold start: process start → /readyz 200, ours vs Python.
 *
 * The machine is shared and its load drifts by minutes, so the systems are measured in
 * interleaved rounds (limit, droptune, python, … then again) and each figure is the median over
 * rounds. BENCH_ROUNDS (default 2) and BENCH_SECONDS (default 4, ×1.5 at concurrency 8, ×3 at
 * 64) set the length. Writes bench/results/serve.json.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { type BenchResult, printTable, writeResults } from './report.ts';
import {
  BODIES,
  HOME,
  Limit,
  load,
  type Measured,
  MODEL,
  median,
  PY,
  ROOT,
  type Server,
  type ServerKind,
  startServer,
  THREADS,
  TORCH_DIR,
  VERSION_DIR,
} from './serve-load.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const CONCURRENCY = [1, 8, 64] as const;
/** Systems measured at each concurrency (the extra variants only where their ratio is read). */
const SYSTEMS: Record<number, (ServerKind | 'limit' | 'limit-int8')[]> = {
  1: ['limit', 'droptune', 'python', 'droptune-int8', 'python-torch', 'limit-int8'],
  8: ['limit', 'droptune', 'python'],
  64: ['limit', 'droptune', 'python', 'droptune-int8', 'python-torch', 'limit-int8'],
};
const log = (m: string) => console.error(`[bench:serve] ${m}`);

async function setup(): Promise<void> {
  if (!existsSync(join(VERSION_DIR, 'manifest.json'))) {
    log('building the MiniLM model version (one time, ~30 s)');
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
}

/** Median cold start over `n` spawns. */
async function coldStart(kind: ServerKind, n: number): Promise<number> {
  const times: number[] = [];
  for (let k = 0; k < n; k++) {
    const s = await startServer(kind);
    times.push(s.coldStartS);
    await s.stop();
  }
  return median(times);
}

async function main(): Promise<void> {
  await setup();
  const cold: Record<ServerKind, number> = {
    droptune: await coldStart('droptune', 3),
    'droptune-int8': await coldStart('droptune-int8', 3),
    python: await coldStart('python', 3),
    'python-torch': await coldStart('python-torch', 1),
  };
  log(`cold start: ${JSON.stringify(cold)}`);

  const limits = { limit: await Limit.open('model.onnx'), 'limit-int8': await Limit.open('model.int8.onnx') };
  // Best batch for the ceiling at concurrency 64 (a batch can never exceed the concurrency).
  const sweep = new Map<number, number>();
  for (const b of [1, 8, 16, 32, 64]) sweep.set(b, (await limits.limit.measure(b, 1.5)).perS);
  const bestBatch = [...sweep.entries()].sort((a, b) => b[1] - a[1])[0]![0];
  log(`limit sweep (seq/s by batch): ${JSON.stringify(Object.fromEntries(sweep))} → best ${bestBatch}`);
  const batchFor = (c: number) => (c === 1 ? 1 : c === 8 ? Math.min(8, bestBatch) : bestBatch);

  const servers = new Map<ServerKind, Server>();
  for (const kind of ['droptune', 'droptune-int8', 'python', 'python-torch'] as const)
    servers.set(kind, await startServer(kind));
  const samples = new Map<string, Measured[]>();
  try {
    // Correctness: the server's answer for the first text equals the bare session's within 1e-4.
    const answer = (await (
      await fetch(`${servers.get('droptune')!.url}/v1/models/${MODEL}:predict`, {
        method: 'POST',
        body: BODIES[0],
      })
    ).json()) as { predictions: { scores: Record<string, number> }[] };
    const labels = JSON.parse(readFileSync(join(VERSION_DIR, 'labels.json'), 'utf8')) as string[];
    const diff = Math.max(
      ...labels.map((l, k) => Math.abs(answer.predictions[0]!.scores[l]! - limits.limit.reference[k]!)),
    );
    if (!(diff <= 1e-4)) throw new Error(`served probabilities differ from the bare session by ${diff}`);

    for (const c of CONCURRENCY) {
      const seconds = SECONDS * (c === 64 ? 3 : c === 8 ? 1.5 : 1);
      for (let round = 0; round < ROUNDS; round++) {
        for (const system of SYSTEMS[c]!) {
          const m =
            system === 'limit' || system === 'limit-int8'
              ? await limits[system].measure(batchFor(c), seconds * 0.6)
              : await load(servers.get(system)!, c, seconds);
          const key = `${system}@${c}`;
          samples.set(key, [...(samples.get(key) ?? []), m]);
          log(`${key} round ${round + 1}: ${m.perS.toFixed(1)}/s, p50 ${m.p50.toFixed(1)} ms`);
        }
      }
    }
  } finally {
    for (const s of servers.values()) await s.stop();
    await limits.limit.dispose();
    await limits['limit-int8'].dispose();
  }

  /** Median over rounds of each figure. */
  const get = (system: string, c: number): Measured | undefined => {
    const ms = samples.get(`${system}@${c}`);
    if (!ms) return undefined;
    const med = (f: (m: Measured) => number) => median(ms.map(f));
    return {
      perS: med((m) => m.perS),
      p50: med((m) => m.p50),
      p95: med((m) => m.p95),
      p99: med((m) => m.p99),
      rssMb: Math.max(...ms.map((m) => m.rssMb)),
    };
  };

  const results: BenchResult[] = [];
  const rows: (string | number)[][] = [];
  for (const system of ['limit', 'droptune', 'python', 'limit-int8', 'droptune-int8', 'python-torch']) {
    for (const c of CONCURRENCY) {
      const m = get(system, c);
      if (!m) continue;
      const isLimit = system.startsWith('limit');
      const conditions = isLimit ? { concurrency: c, batch: batchFor(c) } : { concurrency: c };
      results.push(
        { system, metric: 'req_per_s', value: m.perS, unit: isLimit ? 'seq/s' : 'req/s', conditions },
        { system, metric: 'p50_ms', value: m.p50, unit: 'ms', conditions },
        { system, metric: 'p95_ms', value: m.p95, unit: 'ms', conditions },
        { system, metric: 'p99_ms', value: m.p99, unit: 'ms', conditions },
      );
      if (!isLimit) results.push({ system, metric: 'rss_mb', value: m.rssMb, unit: 'MB', conditions });
      rows.push([
        isLimit ? `${system} (session.run, batch ${batchFor(c)})` : system,
        c,
        m.perS,
        m.p50,
        m.p95,
        m.p99,
        isLimit ? '' : m.rssMb,
      ]);
    }
  }
  for (const [system, s] of Object.entries(cold))
    results.push({ system, metric: 'cold_start_s', value: s, unit: 's', conditions: {} });

  const perS = (system: string, c: number) => get(system, c)!.perS;
  const ratios = {
    vs_limit_c64: perS('droptune', 64) / perS('limit', 64),
    vs_python_c64: perS('droptune', 64) / perS('python', 64),
    int8_vs_fp32: perS('droptune-int8', 64) / perS('droptune', 64),
    vs_python_torch_c64: perS('droptune', 64) / perS('python-torch', 64),
    c1_p50_over_bare_run_ms: get('droptune', 1)!.p50 - get('limit', 1)!.p50,
    cold_start_vs_python: cold.droptune / cold.python,
    limit_int8_vs_fp32_c64: perS('limit-int8', 64) / perS('limit', 64),
  };

  console.log(
    `\nbench:serve — ${MODEL} (MiniLM-L6, 3 labels), ${THREADS} CPU threads, one text per request, median of ${ROUNDS} interleaved rounds\n`,
  );
  printTable(['system', 'concurrency', 'req/s', 'p50 ms', 'p95 ms', 'p99 ms', 'RSS MB'], rows);
  console.log('');
  printTable(
    ['cold start (spawn → /readyz 200)', 'seconds', 'target'],
    [
      ['droptune', cold.droptune, '< 1.5'],
      ['droptune-int8', cold['droptune-int8'], ''],
      ['python (FastAPI + onnxruntime)', cold.python, ''],
      ['python (FastAPI + PyTorch)', cold['python-torch'], ''],
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
      ['limit_int8_vs_fp32_c64', ratios.limit_int8_vs_fp32_c64, ''],
    ],
  );
  console.log(`\nwrote ${writeResults('serve', results, ratios)}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
