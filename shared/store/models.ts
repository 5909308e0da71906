import { type Db, query, type TxClient, withTransaction } from '../db/tx.ts';
import { AppError } from '../errors.ts';
import { toDeployment, toModelVersion } from './rows.ts';
import type { Alias, AliasMove, Deployment, ModelSummary, ModelVersion } from './types.ts';

const VERSION_COLUMNS = `v.*, coalesce((select array_agg(a.alias order by a.alias) from aliases a
  where a.model_name = v.model_name and a.version = v.version), '{}') as aliases`;

/**
 * How often one registration materializes again after others took its version number: each
 * retry means another registration of the model succeeded, so this bounds only a pile-up.
 */
const MAX_REGISTER_ATTEMPTS = 100;

/** What registration produced for the version number it was given. */
export interface Materialized {
  modelUri: string;
  metrics: Record<string, number>;
}

export class ModelStore {
  constructor(private readonly db: Db) {}

  /**
   * Registers `runId` as the next version of `modelName`, gap-free, without holding a
   * transaction while artifacts are copied: the next number N is read, `materialize(N)` runs
   * outside any transaction (it copies the run's artifacts for version N), then one short
   * transaction, the model's row locked, records N only if N is still next. If another
   * registration took N meanwhile, materialize runs again for the new next number (each retry
   * means another registration succeeded, so racing registrations all finish). If materialize
   * throws, nothing is spent. Registering the same run again returns its version (a retried
   * workflow step is safe). A slow copy so never holds the embedded database's one connection.
   */
  async registerVersion(
    modelName: string,
    runId: string,
    materialize: (version: number) => Promise<Materialized>,
  ): Promise<{ version: ModelVersion; created: boolean }> {
    for (let attempt = 0; attempt < MAX_REGISTER_ATTEMPTS; attempt++) {
      const existing = await this.versionOfRun(this.db, modelName, runId);
      if (existing) return { version: existing, created: false };
      const latest = await query<{ latest_version: number }>(
        this.db,
        'select latest_version from models where model_name = $1',
        [modelName],
      );
      const version = (latest[0]?.latest_version ?? 0) + 1;
      const made = await materialize(version);
      const recorded = await this.recordVersion(modelName, runId, version, made);
      if (recorded) return recorded;
    }
    throw new AppError(
      'unavailable',
      `model ${modelName}: ${MAX_REGISTER_ATTEMPTS} other registrations took the next version first; retry`,
    );
  }

  /** The short transaction of `registerVersion`: null when `version` is no longer the next one. */
  private async recordVersion(
    modelName: string,
    runId: string,
    version: number,
    made: Materialized,
  ): Promise<{ version: ModelVersion; created: boolean } | null> {
    return withTransaction(this.db, async (tx) => {
      await query(tx, 'insert into models (model_name) values ($1) on conflict do nothing', [modelName]);
      const locked = await query<{ latest_version: number }>(
        tx,
        'select latest_version from models where model_name = $1 for update',
        [modelName],
      );
      const existing = await this.versionOfRun(tx, modelName, runId);
      if (existing) return { version: existing, created: false };
      if (locked[0]!.latest_version !== version - 1) return null;
      const rows = await query(
        tx,
        `insert into model_versions (model_name, version, run_id, model_uri, metrics)
         values ($1, $2, $3, $4, $5) returning *, '{}'::text[] as aliases`,
        [modelName, version, runId, made.modelUri, made.metrics],
      );
      await query(tx, 'update models set latest_version = $2 where model_name = $1', [modelName, version]);
      await query(tx, 'update runs set version = $2, updated_at = now() where run_id = $1', [runId, version]);
      return { version: toModelVersion(rows[0]!), created: true };
    });
  }

  /** The version `runId` was registered as, or null; a run registered under another model is a 409. */
  private async versionOfRun(
    db: Db | TxClient,
    modelName: string,
    runId: string,
  ): Promise<ModelVersion | null> {
    const rows = await query(db, `select ${VERSION_COLUMNS} from model_versions v where v.run_id = $1`, [
      runId,
    ]);
    if (!rows[0]) return null;
    const v = toModelVersion(rows[0]);
    if (v.modelName !== modelName) {
      throw new AppError(
        'failed_precondition',
        `run ${runId} is already registered as ${v.modelName} v${v.version}`,
      );
    }
    return v;
  }

  /** Newest first; `beforeVersion` continues below that version (the last of the previous page). */
  async versions(
    modelName: string,
    page: { limit?: number; beforeVersion?: number } = {},
  ): Promise<ModelVersion[]> {
    const rows = await query(
      this.db,
      `select ${VERSION_COLUMNS} from model_versions v where v.model_name = $1
         and ($3::int is null or v.version < $3)
       order by v.version desc limit $2`,
      [modelName, Math.min(page.limit ?? 10_000, 10_000), page.beforeVersion ?? null],
    );
    return rows.map(toModelVersion);
  }

  async version(modelName: string, version: number): Promise<ModelVersion> {
    const rows = await query(
      this.db,
      `select ${VERSION_COLUMNS} from model_versions v where v.model_name = $1 and v.version = $2`,
      [modelName, version],
    );
    if (!rows[0])
      throw new AppError('not_found', `model ${modelName} has no version ${version}`, {
        details: { modelName, version },
      });
    return toModelVersion(rows[0]);
  }

  /** The version an alias points at, or null. */
  async alias(modelName: string, alias: Alias): Promise<number | null> {
    const rows = await query<{ version: number }>(
      this.db,
      'select version from aliases where model_name = $1 and alias = $2',
      [modelName, alias],
    );
    return rows[0]?.version ?? null;
  }

  /** Points `alias` at `version` atomically and appends the move to the alias history. */
  async setAlias(
    modelName: string,
    alias: Alias,
    version: number,
    reason?: string,
    kind: 'promote' | 'rollback' = 'promote',
  ): Promise<AliasMove> {
    return withTransaction(this.db, (tx) => this.moveAlias(tx, modelName, alias, version, reason, kind));
  }

  /** The alias move of `setAlias`, inside the caller's transaction (the model's row locked). */
  private async moveAlias(
    tx: TxClient,
    modelName: string,
    alias: Alias,
    version: number,
    reason: string | undefined,
    kind: 'promote' | 'rollback',
  ): Promise<AliasMove> {
    const exists = await query(tx, 'select 1 from model_versions where model_name = $1 and version = $2', [
      modelName,
      version,
    ]);
    if (!exists[0]) {
      throw new AppError('not_found', `model ${modelName} has no version ${version}`, {
        details: { modelName, version },
      });
    }
    await query(tx, 'select 1 from models where model_name = $1 for update', [modelName]);
    const prev = await query<{ version: number }>(
      tx,
      'select version from aliases where model_name = $1 and alias = $2',
      [modelName, alias],
    );
    const previousVersion = prev[0]?.version ?? null;
    await query(
      tx,
      `insert into aliases (model_name, alias, version) values ($1, $2, $3)
       on conflict (model_name, alias) do update set version = excluded.version, updated_at = now()`,
      [modelName, alias, version],
    );
    await query(
      tx,
      'insert into alias_history (model_name, alias, version, previous_version, kind, reason) values ($1, $2, $3, $4, $5, $6)',
      [modelName, alias, version, previousVersion, kind, reason ?? null],
    );
    return { modelName, alias, version, previousVersion };
  }

  /**
   * Moves `production` back to the version that was production before the current version was
   * last *promoted* (rollbacks themselves are skipped, so rolling back twice from v3 gives v2
   * then v1, not v3 again). Fails with `failed_precondition` when there is nothing before.
   */
  async rollback(modelName: string): Promise<AliasMove> {
    const { current, target } = await this.rollbackTarget(modelName);
    return this.setAlias(modelName, 'production', target, `rollback from v${current}`, 'rollback');
  }

  /** Where `rollback` would move production, without moving it (the deploy happens first). */
  async rollbackTarget(modelName: string): Promise<{ current: number; target: number }> {
    const current = await this.alias(modelName, 'production');
    if (current === null)
      throw new AppError('failed_precondition', `model ${modelName} has no production version to roll back`);
    const rows = await query<{ previous_version: number | null }>(
      this.db,
      `select previous_version from alias_history
       where model_name = $1 and alias = 'production' and version = $2 and kind = 'promote'
         and previous_version is not null and previous_version <> $2
       order by id desc limit 1`,
      [modelName, current],
    );
    const target = rows[0]?.previous_version;
    if (target === undefined || target === null) {
      throw new AppError(
        'failed_precondition',
        `model ${modelName} v${current} is the first production version; nothing to roll back to`,
      );
    }
    return { current, target };
  }

  async aliasHistory(modelName: string): Promise<Array<AliasMove & { reason: string | null; at: string }>> {
    const rows = await query(
      this.db,
      'select * from alias_history where model_name = $1 order by id desc limit 200',
      [modelName],
    );
    return rows.map((r) => ({
      modelName: r.model_name as string,
      alias: r.alias as Alias,
      version: r.version as number,
      previousVersion: (r.previous_version as number | null) ?? null,
      reason: (r.reason as string | null) ?? null,
      at: (r.at as Date).toISOString(),
    }));
  }

  /**
   * Records that `version` serves at `url`. With `moveAlias`, `production` moves to that version
   * in the same transaction (the model's row locked, so two deploys of one model record in turn):
   * the alias and what serves can never disagree, whichever of the two writes would have failed.
   */
  async recordDeployment(input: {
    modelName: string;
    version: number;
    url: string;
    revision?: string | null;
    moveAlias?: { kind: 'promote' | 'rollback'; reason?: string };
  }): Promise<Deployment & { aliasMove?: AliasMove }> {
    const insert = (db: Db | TxClient) =>
      query(
        db,
        'insert into deployments (model_name, version, url, revision) values ($1, $2, $3, $4) returning *',
        [input.modelName, input.version, input.url, input.revision ?? null],
      );
    const move = input.moveAlias;
    if (!move) return toDeployment((await insert(this.db))[0]!);
    return withTransaction(this.db, async (tx) => {
      const aliasMove = await this.moveAlias(
        tx,
        input.modelName,
        'production',
        input.version,
        move.reason,
        move.kind,
      );
      // The deploy of this version is done: the model is free for the next (deploy-locks.ts).
      await query(tx, 'delete from deploy_locks where model_name = $1 and version = $2', [
        input.modelName,
        input.version,
      ]);
      return { ...toDeployment((await insert(tx))[0]!), aliasMove };
    });
  }

  /** Newest first; `beforeId` continues below that deployment (the last of the previous page). */
  async deployments(
    modelName: string,
    page: { limit?: number; beforeId?: number } = {},
  ): Promise<Deployment[]> {
    const rows = await query(
      this.db,
      `select * from deployments where model_name = $1 and ($3::bigint is null or id < $3)
       order by id desc limit $2`,
      [modelName, Math.min(page.limit ?? 200, 10_000), page.beforeId ?? null],
    );
    return rows.map(toDeployment);
  }

  /** One model's summary (as `list` gives it); not_found when it has no versions yet. */
  async summary(modelName: string): Promise<ModelSummary> {
    const [model] = await this.list({ modelName, limit: 1 });
    if (!model)
      throw new AppError('not_found', `model ${modelName} does not exist`, { details: { modelName } });
    return model;
  }

  /** Every model with its latest, production and candidate versions and the production URL. */
  async list(
    page: { limit?: number; afterModelName?: string; modelName?: string } = {},
  ): Promise<ModelSummary[]> {
    const rows = await query(
      this.db,
      `select m.model_name, m.latest_version,
         (select version from aliases a where a.model_name = m.model_name and a.alias = 'production') as production_version,
         (select version from aliases a where a.model_name = m.model_name and a.alias = 'candidate') as candidate_version,
         (select d.url from deployments d join aliases a on a.model_name = d.model_name and a.alias = 'production'
           where d.model_name = m.model_name and d.version = a.version order by d.id desc limit 1) as url
       from models m where ($2::text is null or m.model_name > $2) and ($3::text is null or m.model_name = $3)
       order by m.model_name limit $1`,
      [Math.min(page.limit ?? 10_000, 10_000), page.afterModelName ?? null, page.modelName ?? null],
    );
    return rows.map((r) => ({
      modelName: r.model_name as string,
      latestVersion: r.latest_version as number,
      productionVersion: (r.production_version as number | null) ?? null,
      candidateVersion: (r.candidate_version as number | null) ?? null,
      url: (r.url as string | null) ?? null,
    }));
  }
}
