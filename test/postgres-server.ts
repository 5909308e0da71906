/**
 * vitest globalSetup: one real PostgreSQL server for the whole test run.
 *
 * `DROPTUNE_TEST_DATABASE_URL` wins when set (CI may point at a server it started);
 * otherwise a throw-away cluster is created with the machine's `initdb`/`pg_ctl` on
 * 127.0.0.1 and a free port, as the unprivileged `postgres` user when we are root (the server
 * refuses to run as root), and removed afterwards. No server binaries → a clear failure,
 * never a silent skip: the store's contract suite must run on a real server.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { CLOUD_SQL_OWNER_ROLE, IAM_USERS } from './cloud-sql-roles.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    pgUrl: string;
  }
}

function findPgBin(tool: string): string {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir && existsSync(join(dir, tool))) return join(dir, tool);
  }
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    for (const v of readdirSync(root).sort().reverse()) {
      const p = join(root, v, 'bin', tool);
      if (existsSync(p)) return p;
    }
  }
  throw new Error(
    `PostgreSQL server binaries not found (${tool}). Install them (Debian: apt-get install -y postgresql) ` +
      'or set DROPTUNE_TEST_DATABASE_URL to a server the tests may create databases on.',
  );
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

/**
 * The roles of a Cloud SQL instance with IAM users, as the store's suite uses them: a
 * `cloudsqlsuperuser` that is NOT a superuser (CREATEROLE, CREATEDB) and two login roles named like
 * IAM service-account users, members of it — the database roles infra creates for the trigger and
 * the control API. Idempotent (a given server may have them already).
 */
export async function createCloudSqlRoles(
  url: string,
  iamUsers: readonly string[] = IAM_USERS,
): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const ignoreExisting = (sql: string) =>
    `do $$ begin ${sql}; exception when duplicate_object then null; end $$`;
  try {
    await client.query(ignoreExisting(`create role ${CLOUD_SQL_OWNER_ROLE} nologin createrole createdb`));
    for (const user of iamUsers) {
      await client.query(ignoreExisting(`create role "${user}" login`));
      await client.query(`grant ${CLOUD_SQL_OWNER_ROLE} to "${user}"`);
    }
  } finally {
    await client.end();
  }
}

/** A running throw-away PostgreSQL server: its admin URL, and how to stop and remove it. */
export interface PostgresServer {
  url: string;
  stop(): void;
}

/**
 * A throw-away cluster made with the machine's `initdb`/`pg_ctl` on 127.0.0.1 and a free port
 * (as the unprivileged `postgres` user when we are root: the server refuses to run as root),
 * with the Cloud SQL-like roles. The test run's server, and the rehearsal's (cli/rehearse).
 */
export async function startPostgresServer(iamUsers: readonly string[] = IAM_USERS): Promise<PostgresServer> {
  const initdb = findPgBin('initdb');
  const pgCtl = findPgBin('pg_ctl');
  const asRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'droptune-pg-'));
  chmodSync(dir, 0o777);
  const data = join(dir, 'data');
  const run = (cmd: string, args: string[]) =>
    asRoot
      ? execFileSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { stdio: 'pipe' })
      : execFileSync(cmd, args, { stdio: 'pipe' });
  run(initdb, ['-D', data, '-U', 'droptune', '--auth=trust', '--encoding=UTF8', '--no-sync']);
  const port = await freePort();
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300`;
  run(pgCtl, ['-D', data, '-o', opts, '-l', join(dir, 'server.log'), '-w', '-t', '60', 'start']);
  const url = `postgres://droptune@127.0.0.1:${port}/postgres`;
  const stop = () => {
    try {
      run(pgCtl, ['-D', data, '-m', 'immediate', '-w', 'stop']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  try {
    await createCloudSqlRoles(url, iamUsers);
  } catch (err) {
    stop();
    throw err;
  }
  return { url, stop };
}

export default async function setup(project: TestProject): Promise<() => void> {
  const given = process.env.DROPTUNE_TEST_DATABASE_URL;
  if (given) {
    await createCloudSqlRoles(given);
    project.provide('pgUrl', given);
    return () => {};
  }
  const server = await startPostgresServer();
  project.provide('pgUrl', server.url);
  return server.stop;
}
