/**
 * bench:serve — the prediction service against its ceiling and its baseline, in one run on one
 * machine and one MiniLM-sized model (6-layer BERT, all-MiniLM-L6-v2 weights, 3-class head,
 * max length 512):
 *
 * - limit: onnxruntime-node `session.run` in a tight loop (batch 1 for concurrency 1, batch 8
 *   for 8, at 64 the best of batches 8/16/32 by their medians over rounds), texts sorted by
 *   length — what any server on this CPU could reach; the event-loop stall it causes is
 *   recorded (does `session.run` block the loop?);
 * - droptune: the real service (bundled like the container, a child process) under autocannon at
 *   concurrency 1, 8, 64 — req/s, p50/p95/p99, server CPU ms per request, RSS; fp32 and int8;
 *   `droptune-worker` is the same service with onnxruntime in a worker thread;
 * - python: FastAPI + uvicorn doing per-request inference with onnxruntime
 *   (bench/serve-baseline.py) on the same model version;
 * - workloads: `short` (one 8–40-word ticket per request) and `mix` (every fourth request a
 *   ~400-token text);
 * - cold start: process start → /readyz 200, ours vs Python, interleaved spawns.
 *
 * The load generator runs in this process on the same cores: its CPU use is measured and
 * reported (`loadgen_cores`). The machine is shared and its load drifts, so the systems are
 * measured in interleaved rounds (the order rotates each round) and each figure is the median
 * over rounds, with min and max in its conditions. BENCH_ROUNDS (default 3) and BENCH_SECONDS
 * (default 4, ×1.5 at concurrency 8, ×3 at 64) set the length. Writes bench/results/serve.json.
 */

import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
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
  type Workload,
} from './serve-load.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
type System = ServerKind | 'limit' | 'limit-int8';
/** What is measured, per round: workload, concurrency and the systems compared there. */
const CELLS: { workload: Workload; c: number; systems: System[] }[] = [
  { workload: 'short', c: 1, systems: ['limit', 'droptune', 'droptune-worker', 'python'] },
  { workload: 'short', c: 8, systems: ['limit', 'droptune', 'droptune-worker', 'python'] },
  {
    workload: 'short',
    c: 64,
    systems: ['limit', 'droptune', 'droptune-worker', 'python', 'limit-int8', 'droptune-int8'],
  },
  { workload: 'mix', c: 8, systems: ['droptune', 'python'] },
  { workload: 'mix', c: 64, systems: ['droptune', 'python'] },
];
/**
 * Batches the ceiling at c=64 is measured at, every round: the best one is chosen from the
 * medians over rounds, not from one short sweep before the rounds (on a busy machine that sweep
 * once picked batch 1 for int8 and understated its ceiling).
 */
const LIMIT_BATCHES_C64 = [8, 16, 32];
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

/** Cold starts of droptune and Python, spawned alternately `n` times each. */
async function coldStarts(n: number): Promise<Record<'droptune' | 'python', number[]>> {
  const times = { droptune: [] as number[], python: [] as number[] };
  for (let k = 0; k < n; k++) {
    for (const kind of ['droptune', 'python'] as const) {
      const s = await startServer(kind);
      times[kind].push(s.coldStartS);
      await s.stop();
    }
  }
  return times;
}

/** The served answer for the first text equals the bare session's within 1e-4. */
async function checkCorrect(server: Server, reference: Float64Array): Promise<void> {
  const res = await fetch(`${server.url}/v1/models/${MODEL}:predict`, {
    method: 'POST',
    body: BODIES.short[0],
  });
  const answer = (await res.json()) as { predictions: { scores: Record<string, number> }[] };
  const labels = JSON.parse(readFileSync(join(VERSION_DIR, 'labels.json'), 'utf8')) as string[];
  const diff = Math.max(...labels.map((l, k) => Math.abs(answer.predictions[0]!.scores[l]! - reference[k]!)));
  if (!(diff <= 1e-4)) throw new Error(`served probabilities differ from the bare session by ${diff}`);
}

async function main(): Promise<void> {
  const loadBefore = loadavg();
  await setup();
  const cold = await coldStarts(5);
  log(`cold start: ${JSON.stringify(cold)}`);

  const limits = { limit: await Limit.open('model.onnx'), 'limit-int8': await Limit.open('model.int8.onnx') };
  const best: Record<string, number> = {};
  const batchFor = (system: string, c: number) => (c === 1 ? 1 : c === 8 ? 8 : best[system]!);

  const servers = new Map<ServerKind, Server>();
  for (const kind of ['droptune', 'droptune-worker', 'droptune-int8', 'python'] as const)
    servers.set(kind, await startServer(kind));
  const samples = new Map<string, Measured[]>();
  try {
    await checkCorrect(servers.get('droptune')!, limits.limit.reference);
    for (let round = 0; round < ROUNDS; round++) {
      for (const { workload, c, systems } of CELLS) {
        const seconds = SECONDS * (c === 64 ? 3 : c === 8 ? 1.5 : 1);
        const order = systems.map((_, k) => systems[(k + round) % systems.length]!);
        for (const system of order) {
          const batches =
            system === 'limit' || system === 'limit-int8'
              ? c === 64
                ? LIMIT_BATCHES_C64
                : [c]
              : [undefined];
          for (const batch of batches) {
            const m =
              batch === undefined
                ? await load(servers.get(system as ServerKind)!, c, seconds, BODIES[workload])
                : await limits[system as 'limit'].measure(batch, (seconds * 0.6) / batches.length);
            const key = `${system}@${workload}@${c}${c === 64 && batch ? `@b${batch}` : ''}`;
            samples.set(key, [...(samples.get(key) ?? []), m]);
            log(
              `${key} round ${round + 1}: ${m.perS.toFixed(1)}/s, p50 ${m.p50.toFixed(1)} ms, cpu ${m.cpuMsPerReq.toFixed(2)} ms/req, loadgen ${m.loadgenCores.toFixed(2)} cores`,
            );
          }
        }
      }
    }
    for (const system of ['limit', 'limit-int8']) {
      const byBatch = LIMIT_BATCHES_C64.map((b) => ({
        b,
        perS: median(samples.get(`${system}@short@64@b${b}`)!.map((m) => m.perS)),
      }));
      best[system] = byBatch.sort((x, y) => y.perS - x.perS)[0]!.b;
      samples.set(`${system}@short@64`, samples.get(`${system}@short@64@b${best[system]}`)!);
      log(`${system} at c=64 (median seq/s by batch): ${JSON.stringify(byBatch)} → best ${best[system]}`);
    }
  } finally {
    for (const s of servers.values()) await s.stop();
    await limits.limit.dispose();
    await limits['limit-int8'].dispose();
  }
  report(samples, cold, batchFor, { before: loadBefore, after: loadavg() });
}

function report(
  samples: Map<string, Measured[]>,
  cold: Record<'droptune' | 'python', number[]>,
  batchFor: (system: string, c: number) => number,
  load: { before: number[]; after: number[] },
): void {
  const results: BenchResult[] = [];
  const rows: (string | number)[][] = [];
  const conditionsRun = {
    rounds: ROUNDS,
    threads: THREADS,
    loadavg_1m_before: load.before[0],
    loadavg_1m_after: load.after[0],
  };
  const get = (system: string, workload: Workload, c: number) => samples.get(`${system}@${workload}@${c}`);
  const med = (ms: Measured[], f: (m: Measured) => number) => median(ms.map(f));
  for (const { workload, c, systems } of CELLS) {
    for (const system of systems) {
      const ms = get(system, workload, c)!;
      const isLimit = system.startsWith('limit');
      const perS = ms.map((m) => m.perS);
      const conditions = {
        workload,
        concurrency: c,
        ...(isLimit ? { batch: batchFor(system, c) } : {}),
        ...conditionsRun,
        req_per_s_min: Math.min(...perS),
        req_per_s_max: Math.max(...perS),
        loadgen_cores: med(ms, (m) => m.loadgenCores),
      };
      const metric = (name: string, value: number, unit: string) =>
        results.push({ system, metric: name, value, unit, conditions });
      metric('req_per_s', median(perS), isLimit ? 'seq/s' : 'req/s');
      metric(
        'p50_ms',
        med(ms, (m) => m.p50),
        'ms',
      );
      metric(
        'p95_ms',
        med(ms, (m) => m.p95),
        'ms',
      );
      metric(
        'p99_ms',
        med(ms, (m) => m.p99),
        'ms',
      );
      metric(
        'cpu_ms_per_req',
        med(ms, (m) => m.cpuMsPerReq),
        isLimit ? 'ms/seq' : 'ms/req',
      );
      if (isLimit) metric('event_loop_blocked_ms', Math.max(...ms.map((m) => m.loopBlockedMs ?? 0)), 'ms');
      else metric('rss_mb', Math.max(...ms.map((m) => m.rssMb)), 'MB');
      rows.push([
        isLimit ? `${system} (session.run, batch ${batchFor(system, c)})` : system,
        workload,
        c,
        median(perS),
        `${Math.min(...perS).toFixed(0)}–${Math.max(...perS).toFixed(0)}`,
        med(ms, (m) => m.p50),
        med(ms, (m) => m.p99),
        med(ms, (m) => m.cpuMsPerReq),
        isLimit ? '' : med(ms, (m) => m.loadgenCores),
      ]);
    }
  }
  for (const system of ['droptune', 'python'] as const)
    results.push({
      system,
      metric: 'cold_start_s',
      value: median(cold[system]),
      unit: 's',
      conditions: {
        spawns: cold[system].length,
        min: Math.min(...cold[system]),
        max: Math.max(...cold[system]),
        ...conditionsRun,
      },
    });

  const perS = (system: string, c: number, workload: Workload = 'short') =>
    median(get(system, workload, c)!.map((m) => m.perS));
  const cpu = (system: string, c: number) => median(get(system, 'short', c)!.map((m) => m.cpuMsPerReq));
  const p50 = (system: string, c: number) => median(get(system, 'short', c)!.map((m) => m.p50));
  const ratios = {
    vs_python_c1: perS('droptune', 1) / perS('python', 1),
    vs_python_c8: perS('droptune', 8) / perS('python', 8),
    vs_python_c64: perS('droptune', 64) / perS('python', 64),
    vs_python_mix_c8: perS('droptune', 8, 'mix') / perS('python', 8, 'mix'),
    vs_python_mix_c64: perS('droptune', 64, 'mix') / perS('python', 64, 'mix'),
    c1_p50_over_bare_run_ms: p50('droptune', 1) - p50('limit', 1),
    vs_limit_c64: perS('droptune', 64) / perS('limit', 64),
    vs_limit_int8_c64: perS('droptune-int8', 64) / perS('limit-int8', 64),
    cold_start_vs_python: median(cold.droptune) / median(cold.python),
    cpu_per_req_vs_python_c1: cpu('droptune', 1) / cpu('python', 1),
    cpu_per_req_vs_python_c64: cpu('droptune', 64) / cpu('python', 64),
    int8_vs_fp32_c64: perS('droptune-int8', 64) / perS('droptune', 64),
    // CPU time per request moves far less than wall-clock rates on a shared machine.
    c1_cpu_over_bare_run_ms: cpu('droptune', 1) - cpu('limit', 1),
    cpu_limit_over_droptune_c64: cpu('limit', 64) / cpu('droptune', 64),
    cpu_limit_int8_over_droptune_int8_c64: cpu('limit-int8', 64) / cpu('droptune-int8', 64),
    // onnxruntime in a worker thread against on the event loop's thread (the default).
    worker_vs_main_c1: perS('droptune-worker', 1) / perS('droptune', 1),
    worker_vs_main_c8: perS('droptune-worker', 8) / perS('droptune', 8),
    worker_vs_main_c64: perS('droptune-worker', 64) / perS('droptune', 64),
    worker_vs_main_p50_c1_ms: p50('droptune-worker', 1) - p50('droptune', 1),
    worker_vs_main_cpu_c64: cpu('droptune-worker', 64) / cpu('droptune', 64),
  };

  console.log(
    `\nbench:serve — ${MODEL} (MiniLM-L6, 3 labels, max length 512), ${THREADS} CPU threads, one text per request, median of ${ROUNDS} interleaved rounds; load average ${load.before[0]!.toFixed(1)} before, ${load.after[0]!.toFixed(1)} after\n`,
  );
  printTable(
    ['system', 'workload', 'conc.', 'req/s', 'min–max', 'p50 ms', 'p99 ms', 'CPU ms/req', 'loadgen cores'],
    rows,
  );
  console.log('');
  printTable(
    ['cold start (spawn → /readyz 200), median of 5', 'seconds'],
    [
      ['droptune', median(cold.droptune)],
      ['python (FastAPI + onnxruntime)', median(cold.python)],
    ],
  );
  console.log('');
  const targets: Record<string, string> = {
    vs_python_c1: '>= 1.0',
    vs_python_c8: '>= 1.3',
    vs_python_c64: '>= 1.3',
    c1_p50_over_bare_run_ms: '<= 0.5',
    vs_limit_c64: '>= 0.9',
    vs_limit_int8_c64: '>= 0.9',
    cold_start_vs_python: '<= 1.0',
  };
  printTable(
    ['ratio', 'value', 'target'],
    Object.entries(ratios).map(([k, v]) => [k, v, targets[k] ?? '']),
  );
  console.log(`\nwrote ${writeResults('serve', results, ratios)}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
