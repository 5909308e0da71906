import { type Kysely, sql } from 'kysely';

/**
 * A metric point is unique per (run, key, step): the trainer re-sends a batch when an answer is
 * lost and replays its log after a resume, and neither may count a point twice. Existing
 * duplicates keep their first copy; the unique index replaces the plain lookup index (same
 * columns, same order, so the same queries use it).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    delete from metrics m using metrics older
     where m.run_id = older.run_id and m.key = older.key and m.step = older.step and m.id > older.id;
    create unique index metrics_once on metrics (run_id, key, step);
    drop index metrics_by_run_key;
  `.execute(db);
}
