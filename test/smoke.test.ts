import pg from 'pg';
import { expect, inject, it } from 'vitest';

it('reaches the real PostgreSQL server started for the run', async () => {
  const client = new pg.Client({ connectionString: inject('pgUrl') });
  await client.connect();
  const { rows } = await client.query<{ v: string }>('select version() as v');
  await client.end();
  expect(rows[0]?.v).toMatch(/^PostgreSQL \d+/);
});
