import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { AppError } from '../errors.ts';

export interface EmbeddedPostgres {
  /** `postgres://postgres@127.0.0.1:<port>/postgres`, for `pg`. */
  url: string;
  port: number;
  stop(): Promise<void>;
}

/**
 * The embedded default database: PGlite (Postgres compiled to WASM) persisted in `dataDir`
 * (or in memory when `dataDir` is undefined), served on a loopback port by pglite-socket so
 * that `pg` stays the only driver in the codebase.
 *
 * PGlite is one Postgres session; pglite-socket multiplexes client connections onto it and
 * keeps a transaction's statements together, but statements outside transactions from two
 * connections can interleave. Callers in this process therefore use a pool of ONE connection
 * (see `openDatabase`), which serialises all access as the single-session engine requires.
 *
 * A data directory is opened by one process at a time: a lock file holding the owner's pid
 * makes a second opener fail with a clear message instead of corrupting the database.
 */
export async function startEmbeddedPostgres(
  options: { dataDir?: string; port?: number } = {},
): Promise<EmbeddedPostgres> {
  const release = options.dataDir ? lockDataDir(options.dataDir) : () => {};
  let db: PGlite | undefined;
  try {
    db = options.dataDir ? await PGlite.create(join(options.dataDir, 'pgdata')) : await PGlite.create();
    const server = new PGLiteSocketServer({
      db,
      host: '127.0.0.1',
      port: options.port ?? 0,
      maxConnections: 32,
    });
    await server.start();
    const port = Number(server.getServerConn().split(':').pop());
    const opened = db;
    return {
      url: `postgres://postgres@127.0.0.1:${port}/postgres`,
      port,
      async stop() {
        await server.stop();
        await opened.close();
        release();
      },
    };
  } catch (err) {
    await db?.close().catch(() => {});
    release();
    throw err;
  }
}

function lockDataDir(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true });
  const lockFile = join(dataDir, 'owner.pid');
  try {
    writeFileSync(lockFile, String(process.pid), { flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const owner = Number(readFileSync(lockFile, 'utf8'));
    if (owner && owner !== process.pid && isAlive(owner)) {
      throw new AppError(
        'failed_precondition',
        `the embedded database in ${dataDir} is in use by process ${owner} (is another "droptune up" running?)`,
      );
    }
    // A stale lock from a process that died: take it over.
    writeFileSync(lockFile, String(process.pid));
  }
  return () => rmSync(lockFile, { force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
