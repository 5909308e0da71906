/**
 * bench:abuse — bad input and faults against the running local stack on loopback, bounded in
 * count and time (not a test: figures for bench/results/abuse.json):
 *   1. 10^4 malformed control-API requests and 10^4 malformed predict-proxy requests: every answer
 *      a 4xx JSON error, no 5xx, the stack's RSS before/after;
 *   2. a 600 MiB upload sent as text/plain: refused, the stack still answers;
 *   3. 100 concurrent uploads of the same object: how many runs train (one);
 *   4. kill -9 of the stack mid-run, then a fresh start on the same home: the database opens and
 *      the run ends `failed` with a reason.
 * The stack is bench/abuse-stack.ts (`droptune up`'s start path) in a child process.
 *   ABUSE_REQUESTS (default 10000), ABUSE_CONCURRENCY (32), ABUSE_BIG_MIB (600)
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRunningStack } from '../cli/local-stack/stack-file.ts';
import { isTerminal, type RunStatus } from '../shared/contracts/run-status.ts';
import { controlApiRequest, fire, predictRequest, type Tally } from './abuse-requests.ts';
import { type BenchResult, printTable, writeResults } from './report.ts';

const REQUESTS = Number(process.env.ABUSE_REQUESTS ?? 10_000);
const CONCURRENCY = Number(process.env.ABUSE_CONCURRENCY ?? 32);
const BIG_MIB = Number(process.env.ABUSE_BIG_MIB ?? 600);
const REPO = join(import.meta.dirname, '..');
const home = mkdtempSync(join(tmpdir(), 'droptune-bench-abuse-'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function startStack(tag: string): ChildProcess {
  const out = openSync(join(home, `stack-${tag}.out`), 'a');
  return spawn(process.execPath, ['--import', 'tsx', join(REPO, 'bench', 'abuse-stack.ts'), home], {
    cwd: REPO,
    env: { ...process.env, DROPTUNE_HOME: home },
    stdio: ['ignore', out, out],
  });
}

/** Waits (bounded) until the stack on `home` answers; returns its API URL. */
async function ready(child: ChildProcess, token?: () => string): Promise<string> {
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null)
      throw new Error(`the stack exited (${child.exitCode}); see ${home}/stack-*.out`);
    try {
      const { apiUrl, pid } = readRunningStack(home);
      if (pid === child.pid) {
        const res = await fetch(`${apiUrl}/v1/runs?limit=1`, {
          headers: { authorization: `Bearer ${token?.() ?? readToken()}` },
        });
        if (res.status === 200) return apiUrl;
      }
    } catch {
      // not up yet
    }
    await sleep(500);
  }
  throw new Error('the stack did not become ready in 300 s');
}

const readToken = () => readFileSync(join(home, 'api-token'), 'utf8').trim();
const rssMiB = (pid: number) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
const childrenOf = (pid: number): number[] => {
  const path = `/proc/${pid}/task/${pid}/children`;
  return existsSync(path) ? readFileSync(path, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number) : [];
};

async function api<T>(
  apiUrl: string,
  path: string,
  init: RequestInit = {},
): Promise<{ status: number; body: T }> {
  const res = await fetch(`${apiUrl}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${readToken()}`, ...(init.headers as Record<string, string>) },
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

/** PUTs `mib` MiB as text/plain, generated lazily; returns the answer and how much was sent. */
async function bigTextUpload(
  apiUrl: string,
  mib: number,
): Promise<{ status: number | string; sentMiB: number }> {
  let sent = 0;
  const chunk = new Uint8Array(1024 * 1024).fill(97);
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= mib) controller.close();
      else {
        sent++;
        controller.enqueue(chunk);
      }
    },
  });
  try {
    const res = await fetch(`${apiUrl}/v1/uploads/tickets/big.csv`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${readToken()}`, 'content-type': 'text/plain' },
      body,
      duplex: 'half',
    } as RequestInit);
    await res.text();
    return { status: res.status, sentMiB: sent };
  } catch (err) {
    return { status: `connection closed (${(err as Error).message})`, sentMiB: sent };
  }
}

type RunRow = { runId: string; status: string; error: string | null; executionId: string | null };
const listRuns = async (apiUrl: string) =>
  (await api<{ runs: RunRow[] }>(apiUrl, '/v1/runs?modelName=tickets&limit=1000')).body.runs;

let stack = startStack('first');
const results: BenchResult[] = [];
const rows: Array<Array<string | number>> = [];
try {
  let apiUrl = await ready(stack);
  const token = readToken();
  const pid = stack.pid!;
  const rss0 = rssMiB(pid);

  const tallies: Record<string, Tally> = {};
  let t = Date.now();
  tallies.control = await fire(apiUrl, REQUESTS, CONCURRENCY, (i) => controlApiRequest(i, token));
  const controlS = (Date.now() - t) / 1000;
  const rss1 = rssMiB(pid);
  t = Date.now();
  tallies.predict = await fire(apiUrl, REQUESTS, CONCURRENCY, (i) => predictRequest(i, token, 'tickets'));
  const predictS = (Date.now() - t) / 1000;
  const rss2 = rssMiB(pid);
  for (const [surface, tally] of Object.entries(tallies)) {
    const conditions = { surface, concurrency: CONCURRENCY, byStatus: tally.byStatus };
    results.push(
      { system: 'droptune', metric: 'malformed_requests', value: tally.total, unit: 'requests', conditions },
      { system: 'droptune', metric: 'answers_5xx', value: tally.fiveXx, unit: 'requests', conditions },
      {
        system: 'droptune',
        metric: 'answers_4xx_not_json_error',
        value: tally.nonJson4xx,
        unit: 'requests',
        conditions,
      },
      {
        system: 'droptune',
        metric: 'network_errors',
        value: tally.networkErrors,
        unit: 'requests',
        conditions,
      },
    );
    rows.push([
      `${surface}: 5xx / non-JSON 4xx / network errors`,
      `${tally.fiveXx} / ${tally.nonJson4xx} / ${tally.networkErrors} of ${tally.total}`,
    ]);
  }
  results.push(
    { system: 'droptune', metric: 'rss_mib', value: rss0, unit: 'MiB', conditions: { at: 'start' } },
    {
      system: 'droptune',
      metric: 'rss_mib',
      value: rss1,
      unit: 'MiB',
      conditions: { at: 'after control-API requests', seconds: controlS },
    },
    {
      system: 'droptune',
      metric: 'rss_mib',
      value: rss2,
      unit: 'MiB',
      conditions: { at: 'after predict requests', seconds: predictS },
    },
  );
  rows.push([
    'RSS MiB start / after control / after predict',
    `${rss0.toFixed(0)} / ${rss1.toFixed(0)} / ${rss2.toFixed(0)}`,
  ]);

  const big = await bigTextUpload(apiUrl, BIG_MIB);
  const alive = (await api(apiUrl, '/v1/runs?limit=1')).status === 200;
  const rss3 = rssMiB(pid);
  results.push(
    {
      system: 'droptune',
      metric: 'big_text_upload_answer',
      value: typeof big.status === 'number' ? big.status : 0,
      unit: 'http status',
      conditions: { mib: BIG_MIB, answer: big.status, sentMiB: big.sentMiB },
    },
    { system: 'droptune', metric: 'alive_after_big_upload', value: alive ? 1 : 0, unit: 'bool' },
    {
      system: 'droptune',
      metric: 'rss_mib',
      value: rss3,
      unit: 'MiB',
      conditions: { at: 'after the big upload' },
    },
  );
  rows.push([
    `${BIG_MIB} MiB text/plain upload`,
    `answer ${big.status}, ${big.sentMiB} MiB sent, stack alive: ${alive}`,
  ]);

  // 100 concurrent uploads of the same object (one epoch of the sample, so a run gets going).
  await api(apiUrl, '/v1/models/tickets/settings', {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ epochs: 1, maxLength: 32, batchSize: 32 }),
  });
  const csv = readFileSync(join(REPO, 'examples', 'support-tickets', 'train.csv'));
  const puts = await Promise.all(
    Array.from({ length: 100 }, () =>
      fetch(`${apiUrl}/v1/uploads/tickets/train.csv`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv' },
        body: csv,
      }).then(
        (r) => r.status,
        (e: Error) => e.message,
      ),
    ),
  );
  // Bounded wait until no run is still with the trigger and one has started (or all ended).
  let runs: RunRow[] = [];
  for (let i = 0; i < 240; i++) {
    runs = await listRuns(apiUrl);
    const settling = runs.some((r) => r.status === 'queued' || (r.status === 'validating' && !r.executionId));
    if (runs.length > 0 && !settling) break;
    await sleep(500);
  }
  const started = runs.filter((r) => r.executionId);
  const putCounts = puts.reduce<Record<string, number>>((m, s) => ({ ...m, [s]: (m[s] ?? 0) + 1 }), {});
  results.push({
    system: 'droptune',
    metric: 'runs_started_for_100_concurrent_uploads',
    value: started.length,
    unit: 'runs',
    conditions: { uploads: putCounts, runs: runs.length, byStatus: runs.map((r) => r.status) },
  });
  rows.push([
    '100 concurrent uploads of one object',
    `${started.length} run(s) started, ${runs.length} run(s) recorded`,
  ]);

  // kill -9 mid-run, then start again on the same home.
  const victim = started[0];
  let killedAt = 'no run started';
  if (victim) {
    for (let i = 0; i < 240; i++) {
      const r = (await api<RunRow>(apiUrl, `/v1/runs/${victim.runId}`)).body;
      killedAt = r.status;
      if (['provisioning', 'training'].includes(r.status) || isTerminal(r.status as RunStatus)) break;
      await sleep(500);
    }
  }
  const orphans = childrenOf(pid);
  stack.kill('SIGKILL');
  await once(stack, 'exit');
  for (const child of orphans) {
    try {
      process.kill(child, 'SIGKILL'); // the dead stack's trainer / serving children
    } catch {
      // already gone
    }
  }
  stack = startStack('second');
  apiUrl = await ready(stack);
  const after = victim ? (await api<RunRow>(apiUrl, `/v1/runs/${victim.runId}`)).body : undefined;
  const models = (
    await api<{ models: Array<{ modelName: string; productionVersion: number | null }> }>(
      apiUrl,
      '/v1/models',
    )
  ).body.models;
  results.push({
    system: 'droptune',
    metric: 'run_failed_with_reason_after_kill9',
    value: after?.status === 'failed' && after.error ? 1 : 0,
    unit: 'bool',
    conditions: {
      killedAt,
      status: after?.status,
      error: after?.error,
      orphansKilled: orphans.length,
      models,
    },
  });
  rows.push([
    'kill -9 mid-run, then start again',
    `killed at ${killedAt}; run is ${after?.status}: ${after?.error ?? ''}`,
  ]);
} finally {
  if (stack.exitCode === null) {
    stack.kill('SIGTERM');
    await once(stack, 'exit');
  }
}
printTable(['figure', 'value'], rows);
const fiveXx = results.filter((r) => r.metric === 'answers_5xx').reduce((n, r) => n + r.value, 0);
console.log(`wrote ${writeResults('abuse', results, { answers_5xx_per_request: fiveXx / (2 * REQUESTS) })}`);
console.log(`stack logs: ${home}`);
