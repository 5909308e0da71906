import { chmodSync, existsSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { AppError } from '../errors.ts';
import { lockDataDir } from './data-dir-lock.ts';

export interface EmbeddedPostgres {
  /** `postgres://postgres@/postgres?host=<socket dir>`, for `pg` (a Unix socket, not a port). */
  url: string;
  /** The owner-only directory holding the server's Unix socket. */
  socketDir: string;
  stop(): Promise<void>;
}

/**
 * The embedded default database: PGlite (Postgres compiled to WASM) persisted in `dataDir`
 * (or in memory when `dataDir` is undefined), served by pglite-socket so that `pg` stays the
 * only driver in the codebase.
 *
 * pglite-socket has no authentication, so it listens on a Unix socket inside a fresh directory
 * of mode 0700 (not on a TCP port any local user could reach): only this user can connect.
 *
 * PGlite is one Postgres session; pglite-socket multiplexes client connections onto it and
 * keeps a transaction's statements together, but statements outside transactions from two
 * connections can interleave. Callers in this process therefore use a pool of ONE connection
 * (see `openDatabase`), which serialises all access as the single-session engine requires.
 *
 * A data directory is opened by one process at a time (`lockDataDir`). A data directory left
 * half-initialised by an interrupted first start (no `PG_VERSION`) holds nothing and is moved
 * aside; one that exists but cannot be opened is reported, never silently re-initialised.
 */
export async function startEmbeddedPostgres(options: { dataDir?: string } = {}): Promise<EmbeddedPostgres> {
  const release = options.dataDir ? await lockDataDir(options.dataDir) : () => {};
  const socketDir = mkdtempSync(join(tmpdir(), 'droptune-pg-'));
  chmodSync(socketDir, 0o700);
  let db: PGlite | undefined;
  try {
    db = options.dataDir ? await openDataDir(options.dataDir) : await PGlite.create();
    const server = new PGLiteSocketServer({ db, path: join(socketDir, '.s.PGSQL.5432'), maxConnections: 32 });
    await server.start();
    const opened = db;
    return {
      url: `postgres://postgres@/postgres?host=${encodeURIComponent(socketDir)}`,
      socketDir,
      async stop() {
        await server.stop();
        await opened.close();
        rmSync(socketDir, { recursive: true, force: true });
        release();
      },
    };
  } catch (err) {
    await db?.close().catch(() => {});
    rmSync(socketDir, { recursive: true, force: true });
    release();
    throw err;
  }
}

async function openDataDir(dataDir: string): Promise<PGlite> {
  const pgdata = join(dataDir, 'pgdata');
  if (existsSync(pgdata) && !existsSync(join(pgdata, 'PG_VERSION'))) {
    // initdb writes PG_VERSION before anything a database needs: without it there is no data.
    const aside = `${pgdata}.incomplete-${Date.now()}`;
    renameSync(pgdata, aside);
    process.stderr.write(`embedded database: ${pgdata} was half-initialised; moved to ${aside}\n`);
  }
  try {
    return await PGlite.create(pgdata);
  } catch (err) {
    throw new AppError(
      'failed_precondition',
      `the embedded database in ${pgdata} cannot be opened (${(err as Error).message}); if a start was interrupted, move it away to begin with an empty database`,
      { cause: err },
    );
  }
}
