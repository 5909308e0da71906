import { randomUUID } from 'node:crypto';
import { type Db, query } from '../db/tx.ts';
import { AppError } from '../errors.ts';

/**
 * How long a deploy of a model holds the model before another may start without it recording:
 * longer than a deploy takes (the revision's startup probe allows 120 s, Cloud Run's rollout a
 * few minutes, the API calls retry up to ~4 min), short enough that an execution that died
 * without recording blocks the model for minutes, not for good.
 */
export const DEPLOY_LEASE_SECONDS = 15 * 60;

/** The deploy that holds a model: what it deploys, who asked, and its execution once started. */
export interface DeployLock {
  modelName: string;
  lockId: string;
  version: number;
  kind: 'promote' | 'rollback';
  holder: string;
  executionId: string | null;
  acquiredAt: string;
  expiresAt: string;
}

/**
 * Serialises the deploys (promote, rollback) of one model: two executions deploying one model
 * at once could finish in either order and leave `production` pointing at the older one, or
 * the alias and what serves apart. Taking the lock is one statement (an insert that takes over
 * only an expired lock), so two control API instances can never both hold it. Recording the
 * deployment with `moveAlias` releases it in the same transaction (`ModelStore.recordDeployment`).
 */
export class DeployLockStore {
  constructor(private readonly db: Db) {}

  /** Takes the model for this deploy, or fails with `failed_precondition` naming the deploy in flight. */
  async acquire(
    modelName: string,
    deploy: { version: number; kind: 'promote' | 'rollback'; holder: string },
    leaseSeconds = DEPLOY_LEASE_SECONDS,
  ): Promise<DeployLock> {
    const rows = await query(
      this.db,
      `insert into deploy_locks (model_name, lock_id, version, kind, holder, expires_at)
       values ($1, $2, $3, $4, $5, now() + make_interval(secs => $6))
       on conflict (model_name) do update set lock_id = excluded.lock_id, version = excluded.version,
         kind = excluded.kind, holder = excluded.holder, execution_id = null, acquired_at = now(),
         expires_at = excluded.expires_at
       where deploy_locks.expires_at < now()
       returning *`,
      [modelName, randomUUID(), deploy.version, deploy.kind, deploy.holder, leaseSeconds],
    );
    if (rows[0]) return toLock(rows[0]);
    const held = await this.current(modelName);
    if (!held) return this.acquire(modelName, deploy, leaseSeconds); // released in between
    throw new AppError(
      'failed_precondition',
      `model ${modelName} is being deployed: ${held.kind} to v${held.version} by ${held.holder} since ${held.acquiredAt}` +
        `${held.executionId ? ` (execution ${held.executionId})` : ''}; try again when it has finished` +
        ` (if it failed, the model is free at ${held.expiresAt}, or release it: DELETE /v1/models/${modelName}/deploy-lock)`,
      { details: { modelName, deploy: held } },
    );
  }

  /** Notes the execution that deploys under `lockId` (shown to whoever finds the model taken). */
  async started(modelName: string, lockId: string, executionId: string): Promise<void> {
    await query(this.db, 'update deploy_locks set execution_id = $3 where model_name = $1 and lock_id = $2', [
      modelName,
      lockId,
      executionId,
    ]);
  }

  /** Frees the model: only the given lock, or whichever holds it when `lockId` is omitted. */
  async release(modelName: string, lockId?: string): Promise<DeployLock | null> {
    const rows = await query(
      this.db,
      'delete from deploy_locks where model_name = $1 and ($2::text is null or lock_id = $2) returning *',
      [modelName, lockId ?? null],
    );
    return rows[0] ? toLock(rows[0]) : null;
  }

  /** The deploy holding the model, expired or not, or null. */
  async current(modelName: string): Promise<DeployLock | null> {
    const rows = await query(this.db, 'select * from deploy_locks where model_name = $1', [modelName]);
    return rows[0] ? toLock(rows[0]) : null;
  }
}

function toLock(r: Record<string, unknown>): DeployLock {
  return {
    modelName: r.model_name as string,
    lockId: r.lock_id as string,
    version: r.version as number,
    kind: r.kind as DeployLock['kind'],
    holder: r.holder as string,
    executionId: (r.execution_id as string | null) ?? null,
    acquiredAt: (r.acquired_at as Date).toISOString(),
    expiresAt: (r.expires_at as Date).toISOString(),
  };
}
