import { Kysely, type Migration, Migrator, PostgresDialect } from 'kysely';
import type pg from 'pg';
import { AppError } from '../errors.ts';
import * as m001 from './migrations/001-tracking-and-registry.ts';
import * as m002 from './migrations/002-dataset-uri-and-transient-failure.ts';
import * as m003 from './migrations/003-metrics-once.ts';
import * as m004 from './migrations/004-deploy-locks.ts';

/** Every migration, in order. Add new files here; never edit an applied one. */
const MIGRATIONS: Record<string, Migration> = {
  '001-tracking-and-registry': m001,
  '002-dataset-uri-and-transient-failure': m002,
  '003-metrics-once': m003,
  '004-deploy-locks': m004,
};

/** Migration names in the order they apply. */
export const MIGRATION_NAMES: readonly string[] = Object.keys(MIGRATIONS);

/**
 * The role that owns the schema when several non-superuser logins migrate and use it: Cloud SQL's
 * `cloudsqlsuperuser`, which infra grants to every IAM database user (infra/program.ts). It is not
 * a superuser, but its members may `SET ROLE` to it and inherit what it owns.
 */
export const SHARED_OWNER_ROLE = 'cloudsqlsuperuser';

/**
 * Applies pending migrations with Kysely's migrator: all of them in one transaction under an
 * advisory lock, so running it twice, or from two processes at once, leaves one schema.
 * (On PGlite the socket server runs a transaction's statements together, which gives the same
 * exclusion.) Does not close the pool.
 *
 * Ownership: with one login (a superuser, PGlite) objects belong to it. With several IAM users
 * (Cloud SQL: the trigger and the control API both migrate) each would own what it happened to
 * create first and the other would get "permission denied", so a login that is a member of
 * `SHARED_OWNER_ROLE` migrates as that role (`SET ROLE`, on one connection, for the migrator's
 * own tables too): every table is owned by the shared role, which every member inherits.
 */
export async function migrate(pool: pg.Pool): Promise<string[]> {
  const client = await pool.connect();
  try {
    const owner = await sharedOwner(client);
    if (owner) await client.query(`set role ${quoteIdent(owner)}`);
    try {
      return await migrateOn(client);
    } finally {
      if (owner) await client.query('reset role');
    }
  } finally {
    client.release();
  }
}

/** The shared owner role to migrate as, or undefined (superuser, or not a member: single-user database). */
async function sharedOwner(client: pg.PoolClient): Promise<string | undefined> {
  const { rows } = await client.query<{ superuser: boolean; member: boolean | null }>(
    `select r.rolsuper as superuser,
            (select pg_has_role(current_user, o.oid, 'MEMBER') from pg_roles o where o.rolname = $1) as member
       from pg_roles r where r.rolname = current_user`,
    [SHARED_OWNER_ROLE],
  );
  const me = rows[0];
  return me && !me.superuser && me.member ? SHARED_OWNER_ROLE : undefined;
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Kysely's migrator on one connection (the one whose role was set). */
async function migrateOn(client: pg.PoolClient): Promise<string[]> {
  // Every connection Kysely asks for is this one; release and end are no-ops (the caller owns it).
  const onePool = {
    connect: async () => ({ query: client.query.bind(client), release: () => {} }),
    end: async () => {},
  } as unknown as pg.Pool;
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: onePool }) });
  try {
    const migrator = new Migrator({
      db,
      provider: { getMigrations: async () => MIGRATIONS },
      migrationTableName: 'droptune_migrations',
      migrationLockTableName: 'droptune_migrations_lock',
    });
    const { error, results } = await migrator.migrateToLatest();
    if (error) {
      const failed = results?.find((r) => r.status === 'Error')?.migrationName;
      throw new AppError(
        'internal',
        `database migration ${failed ?? ''} failed: ${(error as Error).message}`,
        { cause: error },
      );
    }
    return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
  } finally {
    await db.destroy();
  }
}
