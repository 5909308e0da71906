import { type Db, query } from '../db/tx.ts';
import { AppError } from '../errors.ts';
import { toMetric } from './rows.ts';
import type { MetricPoint, StoredMetric } from './types.ts';

/** Largest batch one append takes (the trainer sends per-step losses in batches). */
export const MAX_METRIC_BATCH = 10_000;

export class MetricStore {
  constructor(private readonly db: Db) {}

  /**
   * Appends a batch in ONE statement (`unnest` of column arrays): the trainer's hot path, so
   * the cost is one round trip per batch, not per point. Exactly once: a point whose (run, key,
   * step) is already stored (a redelivered batch, a log replayed after a resume) is skipped, and
   * the answer counts only the points stored now.
   */
  async append(runId: string, points: MetricPoint[]): Promise<number> {
    if (points.length === 0) return 0;
    if (points.length > MAX_METRIC_BATCH) {
      throw new AppError(
        'too_large',
        `a metrics batch holds at most ${MAX_METRIC_BATCH} points (got ${points.length})`,
      );
    }
    const now = new Date().toISOString();
    const rows = await query<{ n: number }>(
      this.db,
      `with ins as (
         insert into metrics (run_id, key, step, epoch, value, time)
         select $1, k, s, e, v, t from unnest($2::text[], $3::int[], $4::float8[], $5::float8[], $6::timestamptz[]) as u(k, s, e, v, t)
         on conflict (run_id, key, step) do nothing
         returning 1)
       select count(*)::int as n from ins`,
      [
        runId,
        points.map((p) => p.key),
        points.map((p) => p.step),
        points.map((p) => p.epoch ?? null),
        points.map((p) => p.value),
        points.map((p) => p.time ?? now),
      ],
    );
    return rows[0]?.n ?? 0;
  }

  /** Points of a run in insertion order; `afterId` gives only newer ones (live charts poll with it). */
  async list(
    runId: string,
    filter: { key?: string; afterId?: number; limit?: number } = {},
  ): Promise<StoredMetric[]> {
    const rows = await query(
      this.db,
      `select * from metrics where run_id = $1 and ($2::text is null or key = $2) and id > $3
       order by id limit $4`,
      [runId, filter.key ?? null, filter.afterId ?? 0, Math.min(filter.limit ?? 50_000, 100_000)],
    );
    return rows.map(toMetric);
  }

  /** `latest` for many runs in one query (run lists show each run's headline metrics). */
  async latestFor(runIds: string[]): Promise<Map<string, Record<string, number>>> {
    const out = new Map<string, Record<string, number>>(runIds.map((id) => [id, {}]));
    if (runIds.length === 0) return out;
    const rows = await query<{ run_id: string; key: string; value: number }>(
      this.db,
      `select distinct on (run_id, key) run_id, key, value from metrics
       where run_id = any($1) and key <> 'train_loss' and key <> 'learning_rate'
       order by run_id, key, id desc`,
      [runIds],
    );
    for (const r of rows) out.get(r.run_id)![r.key] = r.value;
    return out;
  }

  /** The latest value of each key: the run's headline metrics. */
  async latest(runId: string): Promise<Record<string, number>> {
    const rows = await query<{ key: string; value: number }>(
      this.db,
      'select distinct on (key) key, value from metrics where run_id = $1 order by key, id desc',
      [runId],
    );
    return Object.fromEntries(rows.map((r) => [r.key, r.value]));
  }
}
