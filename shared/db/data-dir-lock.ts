import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { AppError } from '../errors.ts';

/**
 * One process at a time per embedded data directory. On Linux the lock is an abstract Unix
 * socket named after the directory: binding it is atomic and the kernel releases it when the
 * process dies, so there is no stale lock to take over and two starts after a crash cannot both
 * win. `owner.pid` beside it only names the holder in the error. Elsewhere (no abstract
 * sockets) the pid file alone is the lock, taken over when its process is gone.
 */
export async function lockDataDir(dataDir: string): Promise<() => void> {
  mkdirSync(dataDir, { recursive: true });
  const pidFile = join(dataDir, 'owner.pid');
  if (process.platform !== 'linux') return pidFileLock(dataDir, pidFile);
  const name = `\0droptune-db-${createHash('sha256').update(realpathSync(dataDir)).digest('hex').slice(0, 40)}`;
  const server: Server = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EADDRINUSE') reject(err);
      else reject(inUse(dataDir, readOwner(pidFile)));
    });
    server.listen(name, () => resolve());
  });
  server.unref();
  writeFileSync(pidFile, String(process.pid));
  return () => {
    rmSync(pidFile, { force: true });
    server.close();
  };
}

function inUse(dataDir: string, owner: number | undefined): AppError {
  return new AppError(
    'failed_precondition',
    `the embedded database in ${dataDir} is in use by process ${owner ?? '(unknown)'} (is another "droptune up" running?)`,
  );
}

function readOwner(pidFile: string): number | undefined {
  try {
    return Number(readFileSync(pidFile, 'utf8')) || undefined;
  } catch {
    return undefined;
  }
}

function pidFileLock(dataDir: string, pidFile: string): () => void {
  try {
    writeFileSync(pidFile, String(process.pid), { flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const owner = readOwner(pidFile);
    if (owner && isAlive(owner)) throw inUse(dataDir, owner);
    rmSync(pidFile, { force: true });
    writeFileSync(pidFile, String(process.pid), { flag: 'wx' }); // a racing taker fails here
  }
  return () => rmSync(pidFile, { force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
