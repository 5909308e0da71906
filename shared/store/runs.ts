import { randomUUID } from 'node:crypto';
import { allowedFrom, isTerminal, type RunStatus, TRANSITIONS } from '../contracts/run-status.ts';
import { type Db, query, withTransaction } from '../db/tx.ts';
import { AppError } from '../errors.ts';
import { toRun } from './rows.ts';
import type { Run, StatusChange, UploadEventKey } from './types.ts';

export interface NewRun {
  /** Defaults to a fresh id: `r-` + 12 hex chars (short enough to type, unique enough). */
  runId?: string;
  modelName: string;
  datasetUri: string;
  datasetGeneration?: string | null;
  params?: Record<string, unknown>;
}

/** Fields besides the status that a status update may set. */
export interface RunPatch {
  error?: string | null;
  /** The trigger's last transient failure while preparing the run (null once it moved on). */
  transientFailure?: string | null;
  executionId?: string | null;
  machine?: Record<string, unknown> | null;
  costEstimate?: number | null;
  datasetId?: string | null;
  version?: number | null;
  params?: Record<string, unknown>;
}

export function newRunId(): string {
  return `r-${randomUUID().replaceAll('-', '').slice(0, 12)}`;
}

export class RunStore {
  constructor(private readonly db: Db) {}

  async create(input: NewRun): Promise<Run> {
    const rows = await query(
      this.db,
      `insert into runs (run_id, model_name, dataset_uri, dataset_generation, params, status)
       values ($1, $2, $3, $4, $5, 'queued') returning *`,
      [
        input.runId ?? newRunId(),
        input.modelName,
        input.datasetUri,
        input.datasetGeneration ?? null,
        input.params ?? {},
      ],
    );
    const run = toRun(rows[0]!);
    await query(this.db, `insert into run_status_history (run_id, to_status) values ($1, 'queued')`, [
      run.runId,
    ]);
    return run;
  }

  /**
   * Exactly one run per upload: records the event key (bucket, object, generation) and creates
   * its run in one transaction. A second delivery of the same event returns the first run with
   * `created: false` and changes nothing.
   */
  async createForEvent(key: UploadEventKey, input: NewRun): Promise<{ run: Run; created: boolean }> {
    return withTransaction(this.db, async (tx) => {
      const claimed = await query(
        tx,
        `insert into upload_events (bucket, object, generation) values ($1, $2, $3)
         on conflict do nothing returning bucket`,
        [key.bucket, key.object, key.generation],
      );
      if (claimed.length === 0) {
        const existing = await query(
          tx,
          `select r.* from upload_events e join runs r using (run_id)
           where e.bucket = $1 and e.object = $2 and e.generation = $3`,
          [key.bucket, key.object, key.generation],
        );
        if (!existing[0])
          throw new AppError('unavailable', 'the same upload is being processed right now; retry');
        return { run: toRun(existing[0]), created: false };
      }
      const runId = input.runId ?? newRunId();
      const rows = await query(
        tx,
        `insert into runs (run_id, model_name, dataset_uri, dataset_generation, params, status)
         values ($1, $2, $3, $4, $5, 'queued') returning *`,
        [runId, input.modelName, input.datasetUri, input.datasetGeneration ?? null, input.params ?? {}],
      );
      await query(tx, `insert into run_status_history (run_id, to_status) values ($1, 'queued')`, [runId]);
      await query(
        tx,
        `update upload_events set run_id = $4 where bucket = $1 and object = $2 and generation = $3`,
        [key.bucket, key.object, key.generation, runId],
      );
      return { run: toRun(rows[0]!), created: true };
    });
  }

  async get(runId: string): Promise<Run> {
    const rows = await query(this.db, 'select * from runs where run_id = $1', [runId]);
    if (!rows[0]) throw new AppError('not_found', `run ${runId} does not exist`, { details: { runId } });
    return toRun(rows[0]);
  }

  /** Newest first; filters are optional. */
  async list(
    filter: {
      modelName?: string;
      status?: RunStatus | RunStatus[];
      limit?: number;
      /** Only runs listed after this one (the last run of the previous page). */
      afterRunId?: string;
    } = {},
  ): Promise<Run[]> {
    const statuses =
      filter.status === undefined ? null : Array.isArray(filter.status) ? filter.status : [filter.status];
    // The cursor is compared in SQL (not as a JS timestamp, which would drop microseconds).
    const rows = await query(
      this.db,
      `select * from runs
       where ($1::text is null or model_name = $1) and ($2::text[] is null or status = any($2))
         and ($4::text is null or (created_at, run_id) < (select created_at, run_id from runs where run_id = $4))
       order by created_at desc, run_id desc limit $3`,
      [filter.modelName ?? null, statuses, Math.min(filter.limit ?? 100, 10_000), filter.afterRunId ?? null],
    );
    return rows.map(toRun);
  }

  /**
   * Moves a run to `to`, checked against TRANSITIONS atomically (one UPDATE guarded by the
   * allowed source statuses, so two racing updates cannot both win). Setting the current
   * status again is a no-op that still applies `patch`. Illegal moves fail with
   * `failed_precondition` and say what is allowed.
   */
  async transition(runId: string, to: RunStatus, patch: RunPatch = {}, reason?: string): Promise<Run> {
    const sets = patchSql(patch, 4);
    const updated = await withTransaction(this.db, async (tx) => {
      const before = await query<{ status: RunStatus }>(
        tx,
        'select status from runs where run_id = $1 for update',
        [runId],
      );
      if (!before[0]) throw new AppError('not_found', `run ${runId} does not exist`, { details: { runId } });
      const from = before[0].status;
      if (from === to) {
        const same = patchSql(patch, 2);
        const rows = await query(
          tx,
          `update runs set updated_at = now()${same.sql} where run_id = $1 returning *`,
          [runId, ...same.values],
        );
        return toRun(rows[0]!);
      }
      if (!allowedFrom(to).includes(from)) {
        const next = TRANSITIONS[from];
        throw new AppError(
          'failed_precondition',
          `run ${runId} cannot go from ${from} to ${to}` +
            (next.length ? ` (from ${from} it may go to: ${next.join(', ')})` : ` (${from} is final)`),
          { details: { runId, from, to } },
        );
      }
      const rows = await query(
        tx,
        `update runs set status = $2, updated_at = now(),
           started_at = case when $2 = 'provisioning' and started_at is null then now() else started_at end,
           finished_at = case when $3 then now() else finished_at end${sets.sql}
         where run_id = $1 returning *`,
        [runId, to, isTerminal(to), ...sets.values],
      );
      await query(
        tx,
        'insert into run_status_history (run_id, from_status, to_status, reason) values ($1, $2, $3, $4)',
        [runId, from, to, reason ?? patch.error ?? null],
      );
      return toRun(rows[0]!);
    });
    return updated;
  }

  /** Sets fields other than the status. */
  async update(runId: string, patch: RunPatch): Promise<Run> {
    const sets = patchSql(patch, 2);
    const rows = await query(
      this.db,
      `update runs set updated_at = now()${sets.sql} where run_id = $1 returning *`,
      [runId, ...sets.values],
    );
    if (!rows[0]) throw new AppError('not_found', `run ${runId} does not exist`, { details: { runId } });
    return toRun(rows[0]);
  }

  async history(runId: string): Promise<StatusChange[]> {
    const rows = await query(
      this.db,
      'select from_status, to_status, reason, at from run_status_history where run_id = $1 order by id',
      [runId],
    );
    return rows.map((r) => ({
      fromStatus: (r.from_status as RunStatus | null) ?? null,
      toStatus: r.to_status as RunStatus,
      reason: (r.reason as string | null) ?? null,
      at: (r.at as Date).toISOString(),
    }));
  }

  /**
   * The run of `modelName` whose best value of metric `key` is highest (or lowest with
   * `direction: 'min'`, e.g. for a loss), with that value.
   */
  async best(
    modelName: string,
    key: string,
    direction: 'max' | 'min' = 'max',
  ): Promise<{ run: Run; value: number } | undefined> {
    const agg = direction === 'max' ? 'max' : 'min';
    const order = direction === 'max' ? 'desc' : 'asc';
    const rows = await query(
      this.db,
      `select r.*, m.best from runs r
       join (select run_id, ${agg}(value) as best from metrics where key = $2 group by run_id) m using (run_id)
       where r.model_name = $1 order by m.best ${order}, r.created_at desc limit 1`,
      [modelName, key],
    );
    return rows[0] ? { run: toRun(rows[0]), value: rows[0].best as number } : undefined;
  }
}

const PATCH_COLUMNS: Record<keyof RunPatch, string> = {
  error: 'error',
  transientFailure: 'transient_failure',
  executionId: 'execution_id',
  machine: 'machine',
  costEstimate: 'cost_estimate',
  datasetId: 'dataset_id',
  version: 'version',
  params: 'params',
};

function patchSql(patch: RunPatch, firstParam: number): { sql: string; values: unknown[] } {
  const keys = (Object.keys(PATCH_COLUMNS) as (keyof RunPatch)[]).filter((k) => patch[k] !== undefined);
  return {
    sql: keys.map((k, i) => `, ${PATCH_COLUMNS[k]} = $${firstParam + i}`).join(''),
    values: keys.map((k) => patch[k]),
  };
}
