import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { MetricsBody, MetricsQuery, RunId, RunsQuery, StatusBody } from '../../shared/contracts/api.ts';
import { isTerminal } from '../../shared/contracts/run-status.ts';
import { AppError } from '../../shared/errors.ts';
import type { ObjectStore } from '../../shared/storage/index.ts';
import type { Run, StoredMetric, TrackingStore } from '../../shared/store/index.ts';
import { pageAfter, pageQuery, toPage } from './paging.ts';
import { parse } from './parse.ts';
import { readTrainerMetrics, splitAndGate } from './trainer-report.ts';

const RunParams = z.object({ runId: RunId });

/** Runs: list, get (params, dataset profile, metrics, status history), metrics, status, cancel. */
export function registerRunRoutes(
  app: FastifyInstance,
  deps: { store: TrackingStore; objects: ObjectStore; modelsBucket: string },
): void {
  const { store } = deps;

  app.get('/v1/runs', async (request) => {
    const { spec, pageSize, pageToken, filters } = pageQuery(
      'runs',
      parse(RunsQuery, request.query, 'query'),
    );
    const rows = await store.runs.list({
      ...filters,
      limit: pageSize + 1,
      afterRunId: pageAfter<string>(spec, pageToken, 'string'),
    });
    const { items: runs, nextPageToken } = toPage(spec, rows, pageSize, (r) => r.runId);
    // Each run with its latest value of every metric but the per-step ones (the CLI contract).
    const latest = await store.metrics.latestFor(runs.map((r) => r.runId));
    return {
      runs: runs.map((r) => ({ ...r, metrics: { latest: latest.get(r.runId) ?? {} } })),
      nextPageToken,
    };
  });

  app.get('/v1/runs/:runId', async (request) => {
    const { runId } = parse(RunParams, request.params, 'path');
    const run = await store.runs.get(runId);
    return runDetail(deps, run);
  });

  app.get('/v1/runs/:runId/metrics', async (request) => {
    const { runId } = parse(RunParams, request.params, 'path');
    const q = parse(MetricsQuery, request.query, 'query');
    await store.runs.get(runId);
    return { metrics: await store.metrics.list(runId, q) };
  });

  app.post('/v1/runs/:runId/metrics', async (request, reply) => {
    const { runId } = parse(RunParams, request.params, 'path');
    const body = parse(MetricsBody, request.body, 'body');
    const run = await store.runs.get(runId);
    if (isTerminal(run.status)) {
      throw new AppError('failed_precondition', `run ${runId} is ${run.status}; it takes no more metrics`);
    }
    const accepted = await store.metrics.append(runId, body.metrics);
    return reply.status(201).send({ accepted });
  });

  app.post('/v1/runs/:runId/status', async (request) => {
    const { runId } = parse(RunParams, request.params, 'path');
    const { status, reason, ...patch } = parse(StatusBody, request.body, 'body');
    return store.runs.transition(runId, status, patch, reason);
  });

  app.post('/v1/runs/:runId/cancel', async (request) => {
    const { runId } = parse(RunParams, request.params, 'path');
    const run = await store.runs.get(runId);
    if (run.status === 'cancelled') return run;
    if (isTerminal(run.status))
      throw new AppError('failed_precondition', `run ${runId} is already ${run.status}`);
    // The workflow sees `cancelled` at its next status check, deletes the VM and stops.
    return store.runs.transition(runId, 'cancelled', {
      error: `cancelled by ${request.principal?.subject ?? 'a user'}`,
    });
  });
}

/** A run with everything a detail view needs, in one answer. */
async function runDetail(
  deps: { store: TrackingStore; objects: ObjectStore; modelsBucket: string },
  run: Run,
) {
  const { store } = deps;
  const [dataset, latest, points, history, report] = await Promise.all([
    run.datasetId ? store.datasets.get(run.datasetId) : Promise.resolve(null),
    store.metrics.latest(run.runId),
    store.metrics.list(run.runId, { limit: 100_000 }),
    store.runs.history(run.runId),
    readTrainerMetrics(deps.objects, deps.modelsBucket, run),
  ]);
  return { ...run, dataset, metrics: { latest, epochs: perEpoch(points) }, history, ...splitAndGate(report) };
}

/** Per key, the last value logged for each epoch (the series the charts draw). */
function perEpoch(
  points: StoredMetric[],
): Record<string, { epoch: number; step: number; value: number; time: string }[]> {
  const byKey = new Map<string, Map<number, StoredMetric>>();
  for (const p of points) {
    if (p.epoch === null) continue;
    const series = byKey.get(p.key) ?? new Map<number, StoredMetric>();
    series.set(p.epoch, p);
    byKey.set(p.key, series);
  }
  return Object.fromEntries(
    [...byKey].map(([key, series]) => [
      key,
      [...series.values()]
        .sort((a, b) => a.epoch! - b.epoch!)
        .map((p) => ({ epoch: p.epoch!, step: p.step, value: p.value, time: p.time })),
    ]),
  );
}
