import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { startEmbeddedPostgres } from './embedded.ts';

/** The pid of a process that has exited (what a crash leaves in owner.pid). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  await once(child, 'exit');
  return child.pid!;
}

describe('embedded PostgreSQL safety', () => {
  it('serves on a Unix socket in an owner-only directory, not on a TCP port', async () => {
    const db = await startEmbeddedPostgres();
    try {
      expect(db.url).not.toMatch(/127\.0\.0\.1|localhost/);
      expect(statSync(db.socketDir).mode & 0o777).toBe(0o700);
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      expect((await client.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
      await client.end();
    } finally {
      await db.stop();
    }
    expect(existsSync(db.socketDir)).toBe(false);
  });

  it('lets exactly one of two starts after a crash open the data directory', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'droptune-db-'));
    writeFileSync(join(dataDir, 'owner.pid'), String(await deadPid()));
    const results = await Promise.allSettled([
      startEmbeddedPostgres({ dataDir }),
      startEmbeddedPostgres({ dataDir }),
    ]);
    const opened = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r) => r.status === 'rejected');
    for (const r of opened) await r.value.stop();
    expect(opened).toHaveLength(1);
    expect(String(refused[0]?.reason)).toContain('is in use by process');
  });

  it('moves a half-initialised data directory aside and starts with an empty database', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'droptune-db-'));
    mkdirSync(join(dataDir, 'pgdata', 'base'), { recursive: true });
    writeFileSync(join(dataDir, 'pgdata', 'postgresql.conf'), '# an initdb cut short\n');
    const db = await startEmbeddedPostgres({ dataDir });
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    expect((await client.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
    await client.end();
    await db.stop();
    expect(readdirSync(dataDir).filter((n) => n.startsWith('pgdata.incomplete-'))).toHaveLength(1);
    expect(existsSync(join(dataDir, 'pgdata', 'PG_VERSION'))).toBe(true);
  });
});
