/**
 * bench:serve-http — fastify against plain node:http for the predict route alone, to decide
 * which one serving uses: each server parses the same JSON body and answers a fixed prediction
 * (no model: the model's run is the same for both and would hide the difference). Reports
 * server CPU time per request (from /proc, so the load generator and a busy machine do not
 * count) over interleaved rounds. Prints a table; writes bench/results/serve-http.json.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import getPort from 'get-port';
import { type BenchResult, printTable, writeResults } from './report.ts';
import { BODIES, median, processCpuSeconds, sleep } from './serve-load.ts';

const autocannon = createRequire(import.meta.url)('autocannon') as (
  o: Record<string, unknown>,
) => Promise<{ requests: { total: number }; non2xx: number; errors: number }>;

const ANSWER = {
  predictions: [{ label: 'refund', scores: { refund: 0.9, delivery: 0.07, other: 0.03 } }],
  model: { name: 'm', version: 1 },
};
const SERVERS: Record<string, string> = {
  fastify: `
    import Fastify from 'fastify';
    import { predictResponseSchema } from './serving/api/response-schemas.ts';
    const app = Fastify({ logger: false });
    app.post('/v1/models/:name', { schema: { response: { 200: predictResponseSchema } } }, async (req) => {
      if (!Array.isArray(req.body.instances)) throw new Error('bad');
      return ${JSON.stringify(ANSWER)};
    });
    await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });`,
  'node:http': `
    import { createServer } from 'node:http';
    const answer = ${JSON.stringify(ANSWER)};
    createServer((req, res) => {
      if (req.method !== 'POST') { res.writeHead(404); res.end(); return; }
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        if (!Array.isArray(body.instances)) throw new Error('bad');
        const out = JSON.stringify(answer);
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(out) });
        res.end(out);
      });
    }).listen(Number(process.env.PORT), '127.0.0.1');`,
};

async function measure(kind: string, connections: number, seconds: number): Promise<number> {
  const port = await getPort();
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', SERVERS[kind]!], {
    env: { ...process.env, PORT: String(port) },
    stdio: 'inherit',
  });
  try {
    for (;;) {
      try {
        await fetch(`http://127.0.0.1:${port}/`);
        break;
      } catch {
        await sleep(50);
      }
    }
    let i = 0;
    const opts = {
      url: `http://127.0.0.1:${port}/v1/models/m:predict`,
      method: 'POST',
      connections,
      headers: { 'content-type': 'application/json' },
      requests: [{ setupRequest: (r: Record<string, unknown>) => ({ ...r, body: BODIES.short[i++ % 512] }) }],
    };
    await autocannon({ ...opts, duration: 1 }); // warm-up: JIT
    const cpu0 = processCpuSeconds(child.pid!);
    const r = await autocannon({ ...opts, duration: seconds });
    if (r.non2xx > 0 || r.errors > 0) throw new Error(`${kind}: ${r.non2xx} non-2xx, ${r.errors} errors`);
    return ((processCpuSeconds(child.pid!) - cpu0) * 1e6) / r.requests.total;
  } finally {
    child.kill('SIGTERM');
  }
}

async function main(): Promise<void> {
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  const samples: Record<string, number[]> = { fastify: [], 'node:http': [] };
  for (let round = 0; round < rounds; round++)
    for (const kind of round % 2 ? ['node:http', 'fastify'] : ['fastify', 'node:http'])
      samples[kind]!.push(await measure(kind, 8, Number(process.env.BENCH_SECONDS ?? 4)));
  const results: BenchResult[] = Object.entries(samples).map(([system, us]) => ({
    system,
    metric: 'cpu_us_per_req',
    value: median(us),
    unit: 'µs/req',
    conditions: { concurrency: 8, rounds, min: Math.min(...us), max: Math.max(...us) },
  }));
  printTable(
    ['server', 'CPU µs/req (median)', 'min', 'max'],
    results.map((r) => [r.system, r.value, r.conditions!.min as number, r.conditions!.max as number]),
  );
  const ratios = { node_http_vs_fastify_cpu: median(samples['node:http']!) / median(samples.fastify!) };
  console.log(`node:http / fastify CPU per request: ${ratios.node_http_vs_fastify_cpu.toFixed(3)}`);
  console.log(`wrote ${writeResults('serve-http', results, ratios)}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
