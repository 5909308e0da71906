import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase } from './pool.ts';

describe('openDatabase', () => {
  it('defaults to an embedded PGlite persisted under $DROPTUNE_HOME/db that survives a restart', async () => {
    const home = mkdtempSync(join(tmpdir(), 'droptune-home-'));
    const first = await openDatabase({ DROPTUNE_HOME: home, DB_NAME: 'droptune' });
    expect(first.kind).toBe('embedded');
    await first.pool.query(`insert into models (model_name) values ('persisted')`);
    await first.close();
    const second = await openDatabase({ DROPTUNE_HOME: home, DB_NAME: 'droptune' });
    const { rows } = await second.pool.query('select model_name from models');
    expect(rows).toEqual([{ model_name: 'persisted' }]);
    await second.close();
  });

  it('refuses to open an embedded database another opener holds, naming the process', async () => {
    const home = mkdtempSync(join(tmpdir(), 'droptune-home-'));
    const first = await openDatabase({ DROPTUNE_HOME: home, DB_NAME: 'droptune' });
    await expect(openDatabase({ DROPTUNE_HOME: home, DB_NAME: 'droptune' })).rejects.toThrow(
      `is in use by process ${process.pid} (is another "droptune up" running?)`,
    );
    await first.close();
  });

  it('uses DATABASE_URL when set, and hides its password', async () => {
    const { inject } = await import('vitest');
    const url = new URL(inject('pgUrl'));
    url.password = 'secret';
    const db = await openDatabase({
      DATABASE_URL: url.toString(),
      DROPTUNE_HOME: '/nonexistent',
      DB_NAME: 'x',
    });
    expect(db.kind).toBe('url');
    expect(db.where).not.toContain('secret');
    await db.close();
  });
});
