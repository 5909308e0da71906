import { type Kysely, sql } from 'kysely';

/**
 * One spelling per name: `datasets.uri` becomes `dataset_uri` (the `datasetUri` of every other
 * stage). And the trigger's "a transient failure happened, a redelivery may take over" state gets
 * its own column instead of living as a prefix of the user-visible error text.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table datasets rename column uri to dataset_uri;
    alter table runs add column transient_failure text;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table runs drop column transient_failure;
    alter table datasets rename column dataset_uri to uri;
  `.execute(db);
}
