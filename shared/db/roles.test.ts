/**
 * Defect: two Cloud SQL IAM users (trigger, control API) both migrate; whichever ran first owned
 * the tables and the other got "permission denied". On the real PostgreSQL server, as two
 * non-superuser logins that are members of a non-superuser `cloudsqlsuperuser` (as Cloud SQL
 * makes them): migrations from either, at once or one after the other, and use from both.
 */
import type pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { IAM_USERS } from '../../test/cloud-sql-roles.ts';
import { createStore } from '../store/index.ts';
import { MIGRATION_NAMES, migrate, SHARED_OWNER_ROLE } from './migrate.ts';
import type { Database } from './pool.ts';
import { asIamUser, TEST_BACKENDS } from './testing.ts';

const postgres = TEST_BACKENDS.find((b) => b.name === 'postgres')!;
const [CONTROL_API, TRIGGER] = IAM_USERS;

describe('schema ownership with several IAM database users', () => {
  const open: Array<{ end(): Promise<void> }> = [];
  afterEach(async () => {
    for (const p of open.splice(0)) await p.end();
  });
  async function fresh(): Promise<{ db: Database; a: pg.Pool; b: pg.Pool }> {
    const db = await postgres.open({ migrated: false });
    const a = asIamUser(db, CONTROL_API);
    const b = asIamUser(db, TRIGGER);
    open.push({ end: () => db.close() }, a, b);
    return { db, a, b };
  }

  it('the logins are not superusers', async () => {
    const { a } = await fresh();
    const { rows } = await a.query('select rolsuper from pg_roles where rolname = current_user');
    expect(rows).toEqual([{ rolsuper: false }]);
  });

  it('either user migrates first, and both then read and write every table', async () => {
    const { a, b } = await fresh();
    expect(await migrate(b)).toEqual(MIGRATION_NAMES);
    expect(await migrate(a)).toEqual([]);
    const owners = await a.query<{ tableowner: string }>(
      "select distinct tableowner from pg_tables where schemaname = 'public'",
    );
    expect(owners.rows).toEqual([{ tableowner: SHARED_OWNER_ROLE }]);

    const byTrigger = await createStore(b).runs.create({ modelName: 'm', datasetUri: 'gs://d/m/a.csv' });
    const asApi = createStore(a);
    await asApi.runs.transition(byTrigger.runId, 'validating');
    await asApi.metrics.append(byTrigger.runId, [{ key: 'loss', step: 1, value: 0.5 }]);
    const byApi = await asApi.runs.create({ modelName: 'm', datasetUri: 'gs://d/m/b.csv' });
    expect((await createStore(b).runs.get(byApi.runId)).modelName).toBe('m');
    expect((await createStore(b).runs.get(byTrigger.runId)).status).toBe('validating');
  });

  it('both users migrating at once leave one schema both can use', async () => {
    const { a, b } = await fresh();
    const applied = await Promise.all([migrate(a), migrate(b)]);
    expect(applied.flat()).toEqual(MIGRATION_NAMES);
    await createStore(a).runs.create({ modelName: 'm', datasetUri: 'gs://d/m/a.csv' });
    expect(await createStore(b).runs.list({})).toHaveLength(1);
  });
});
