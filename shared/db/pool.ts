import { join, resolve } from 'node:path';
import pg from 'pg';
import type { Config } from '../config.ts';
import { cloudSqlPool } from './cloud-sql.ts';
import { startEmbeddedPostgres } from './embedded.ts';
import { migrate } from './migrate.ts';

// BIGINT (count(*), bigserial ids) as JS numbers: our ids and counts stay far below 2^53.
pg.types.setTypeParser(20, (v) => Number(v));

export interface Database {
  pool: pg.Pool;
  /** Which of the three sources was chosen. */
  kind: 'url' | 'cloud-sql' | 'embedded';
  /** Where it is (URL without password, instance name, or data directory). */
  where: string;
  close(): Promise<void>;
}

/**
 * Opens the database the config names, migrated: `DATABASE_URL` if set; else Cloud SQL when
 * `INSTANCE_CONNECTION_NAME` is set; else the embedded PGlite under `$DROPTUNE_HOME/db`.
 */
export async function openDatabase(
  cfg: Pick<Config, 'DATABASE_URL' | 'INSTANCE_CONNECTION_NAME' | 'DB_USER' | 'DB_NAME' | 'DROPTUNE_HOME'>,
): Promise<Database> {
  let db: Database;
  if (cfg.DATABASE_URL) {
    const pool = new pg.Pool({ connectionString: cfg.DATABASE_URL, max: 10 });
    db = { pool, kind: 'url', where: redact(cfg.DATABASE_URL), close: () => pool.end() };
  } else if (cfg.INSTANCE_CONNECTION_NAME) {
    if (!cfg.DB_USER)
      throw new Error(
        'invalid environment: DB_USER: required with INSTANCE_CONNECTION_NAME (the IAM database user)',
      );
    const { pool, close } = await cloudSqlPool({
      instanceConnectionName: cfg.INSTANCE_CONNECTION_NAME,
      user: cfg.DB_USER,
      database: cfg.DB_NAME,
    });
    db = { pool, kind: 'cloud-sql', where: cfg.INSTANCE_CONNECTION_NAME, close };
  } else {
    const dataDir = resolve(join(cfg.DROPTUNE_HOME, 'db'));
    const embedded = await startEmbeddedPostgres({ dataDir });
    db = embeddedDatabase(embedded.url, dataDir, embedded.stop);
  }
  try {
    await migrate(db.pool);
  } catch (err) {
    await db.close();
    throw err;
  }
  return db;
}

/** A pool of one connection onto an embedded PGlite server (see `startEmbeddedPostgres`). */
export function embeddedDatabase(url: string, where: string, stop: () => Promise<void>): Database {
  const pool = new pg.Pool({ connectionString: url, max: 1, idleTimeoutMillis: 0 });
  return {
    pool,
    kind: 'embedded',
    where,
    async close() {
      await pool.end();
      await stop();
    },
  };
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'DATABASE_URL';
  }
}
