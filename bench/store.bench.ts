/**
 * bench:store — metric-log throughput (rows/s) for batched per-step metrics, the trainer's hot
 * path, on the embedded PGlite and on a real PostgreSQL server, in one run on one machine.
 * The server is a throw-away cluster (same as the tests) unless DROPTUNE_BENCH_DATABASE_URL
 * names one. Baseline for comparison: one INSERT per point on the same server.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '../shared/db/embedded.ts';
import { migrate } from '../shared/db/migrate.ts';
import { createStore, type MetricPoint } from '../shared/store/index.ts';
import { type BenchResult, printTable, writeResults } from './report.ts';

const BATCH = Number(process.env.BENCH_BATCH ?? 500);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);

async function measure(pool: pg.Pool, label: string, perPoint = false): Promise<number> {
  const store = createStore(pool);
  const run = await store.runs.create({ modelName: 'bench', datasetUri: 'file://datasets/bench/x.csv' });
  let step = 0;
  const batch = (): MetricPoint[] =>
    Array.from({ length: BATCH }, () => ({
      key: 'train_loss',
      step: step++,
      epoch: step / 1000,
      value: Math.random(),
    }));
  // Warm-up
  await store.metrics.append(run.runId, batch());
  let rows = 0;
  const start = performance.now();
  while (performance.now() - start < SECONDS * 1000) {
    if (perPoint) {
      for (const p of batch().slice(0, 50)) {
        await pool.query(
          'insert into metrics (run_id, key, step, epoch, value) values ($1, $2, $3, $4, $5)',
          [run.runId, p.key, p.step, p.epoch, p.value],
        );
        rows++;
      }
    } else {
      rows += await store.metrics.append(run.runId, batch());
    }
  }
  const rate = rows / ((performance.now() - start) / 1000);
  console.error(`${label}: ${rows} rows in ${SECONDS}s`);
  return rate;
}

async function startServer(): Promise<{ url: string; stop: () => void }> {
  if (process.env.DROPTUNE_BENCH_DATABASE_URL)
    return { url: process.env.DROPTUNE_BENCH_DATABASE_URL, stop: () => {} };
  const dir = mkdtempSync(join(tmpdir(), 'droptune-bench-pg-'));
  chmodSync(dir, 0o777);
  const asRoot = process.getuid?.() === 0;
  const bin = execFileSync('bash', [
    '-c',
    'dirname "$(command -v initdb || ls /usr/lib/postgresql/*/bin/initdb | tail -1)"',
  ])
    .toString()
    .trim();
  const run = (cmd: string, args: string[]) =>
    execFileSync(asRoot ? 'runuser' : cmd, asRoot ? ['-u', 'postgres', '--', cmd, ...args] : args, {
      stdio: 'pipe',
    });
  run(join(bin, 'initdb'), ['-D', join(dir, 'data'), '-U', 'droptune', '--auth=trust', '--no-sync']);
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  run(join(bin, 'pg_ctl'), [
    '-D',
    join(dir, 'data'),
    '-o',
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`,
    '-l',
    join(dir, 'log'),
    '-w',
    'start',
  ]);
  return {
    url: `postgres://droptune@127.0.0.1:${port}/postgres`,
    stop: () => {
      run(join(bin, 'pg_ctl'), ['-D', join(dir, 'data'), '-m', 'fast', '-w', 'stop']);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const results: BenchResult[] = [];
const embedded = await startEmbeddedPostgres();
const litePool = new pg.Pool({ connectionString: embedded.url, max: 1 });
await migrate(litePool);
const lite = await measure(litePool, 'pglite batched');
await litePool.end();
await embedded.stop();

const server = await startServer();
const pgPool = new pg.Pool({ connectionString: server.url, max: 1 });
await migrate(pgPool);
const real = await measure(pgPool, 'postgres batched');
const naive = await measure(pgPool, 'postgres one insert per point', true);
await pgPool.end();
server.stop();

const conditions = { batch: BATCH, seconds: SECONDS };
results.push(
  { system: 'pglite', metric: 'metric_rows_per_s', value: Math.round(lite), unit: 'rows/s', conditions },
  { system: 'postgres', metric: 'metric_rows_per_s', value: Math.round(real), unit: 'rows/s', conditions },
  {
    system: 'postgres-per-row-insert',
    metric: 'metric_rows_per_s',
    value: Math.round(naive),
    unit: 'rows/s',
    conditions: { batch: 1, seconds: SECONDS },
  },
);
const ratios = { pglite_vs_postgres: lite / real, batched_vs_per_row_postgres: real / naive };
printTable(
  ['system', 'metric_rows_per_s', 'batch'],
  results.map((r) => [r.system, r.value, String(r.conditions?.batch)]),
);
console.log(`ratios: ${JSON.stringify(ratios)}`);
console.log(`wrote ${writeResults('store', results, ratios)}`);
