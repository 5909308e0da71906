import { type Kysely, sql } from 'kysely';

/**
 * One deploy (promote or rollback) of a model at a time: the control API takes the model's row
 * here before it starts a promote execution, recording the deployment releases it, and a lease
 * frees it when the execution died without recording (shared/store/deploy-locks.ts).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table deploy_locks (
      model_name   text primary key references models (model_name),
      lock_id      text not null,
      version      integer not null,
      kind         text not null check (kind in ('promote','rollback')),
      holder       text not null,
      execution_id text,
      acquired_at  timestamptz not null default now(),
      expires_at   timestamptz not null
    );
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table deploy_locks;`.execute(db);
}
