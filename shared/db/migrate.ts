import { Kysely, type Migration, Migrator, PostgresDialect } from 'kysely';
import type pg from 'pg';
import { AppError } from '../errors.ts';
import * as m001 from './migrations/001-tracking-and-registry.ts';
import * as m002 from './migrations/002-dataset-uri-and-transient-failure.ts';

/** Every migration, in order. Add new files here; never edit an applied one. */
const MIGRATIONS: Record<string, Migration> = {
  '001-tracking-and-registry': m001,
  '002-dataset-uri-and-transient-failure': m002,
};

/** Migration names in the order they apply. */
export const MIGRATION_NAMES: readonly string[] = Object.keys(MIGRATIONS);

/**
 * Applies pending migrations with Kysely's migrator: all of them in one transaction under an
 * advisory lock, so running it twice, or from two processes at once, leaves one schema.
 * (On PGlite the socket server runs a transaction's statements together, which gives the same
 * exclusion.) Does not close the pool.
 */
export async function migrate(pool: pg.Pool): Promise<string[]> {
  // Kysely's PostgresDialect ends the pool on destroy; hand it a wrapper whose end() is a no-op.
  const shared = Object.create(pool, { end: { value: async () => {} } }) as pg.Pool;
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: shared }) });
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
