/**
 * Test support: the two real PostgreSQL backends every store test runs on — embedded PGlite
 * (over pglite-socket, as the local stack uses it) and the real server that vitest's
 * globalSetup started (test/postgres-server.ts). Each `open()` gives a fresh, migrated,
 * isolated database. On the real server the database is used the way Cloud SQL's is: as a
 * non-superuser IAM login (`IAM_USERS[0]`), member of `cloudsqlsuperuser`, which owns the
 * database; `asIamUser` opens it as the other IAM login.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { CLOUD_SQL_OWNER_ROLE, IAM_USERS } from '../../test/cloud-sql-roles.ts';
import { startEmbeddedPostgres } from './embedded.ts';
import { migrate } from './migrate.ts';
import { type Database, embeddedDatabase } from './pool.ts';

export interface TestBackend {
  name: 'pglite' | 'postgres';
  /** A fresh migrated database. `migrated: false` leaves the schema empty. */
  open(options?: { migrated?: boolean }): Promise<Database>;
}

export const TEST_BACKENDS: TestBackend[] = [
  {
    name: 'pglite',
    async open({ migrated = true } = {}) {
      const embedded = await startEmbeddedPostgres();
      const db = embeddedDatabase(embedded.url, 'memory', embedded.stop);
      if (migrated) await migrate(db.pool);
      return db;
    },
  },
  {
    name: 'postgres',
    async open({ migrated = true } = {}) {
      const serverUrl = inject('pgUrl');
      const name = `t_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
      const admin = new pg.Client({ connectionString: serverUrl });
      await admin.connect();
      await admin.query(`create database ${name} owner ${CLOUD_SQL_OWNER_ROLE}`);
      await admin.end();
      const pool = new pg.Pool({ connectionString: databaseUrl(serverUrl, name, IAM_USERS[0]), max: 20 });
      const db: Database = { pool, kind: 'url', where: name, close: () => pool.end() };
      if (migrated) await migrate(db.pool);
      return db;
    },
  },
];

function databaseUrl(serverUrl: string, database: string, user: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  url.username = encodeURIComponent(user);
  url.password = '';
  return url.toString();
}

/** A pool onto `db`'s database (on the real server) logged in as another IAM user. */
export function asIamUser(db: Database, user: (typeof IAM_USERS)[number], max = 5): pg.Pool {
  return new pg.Pool({ connectionString: databaseUrl(inject('pgUrl'), db.where, user), max });
}

/** A second pool onto the same database as `db` (to play a second process). */
export function secondPool(db: Database, max = 1): pg.Pool {
  const opts = db.pool.options as pg.PoolConfig;
  return new pg.Pool({ connectionString: opts.connectionString, max });
}
