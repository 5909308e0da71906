import { type Db, query } from '../db/tx.ts';
import type { UploadEventKey } from './types.ts';

/**
 * The dedupe key of an upload (bucket, object, generation). Eventarc delivers at least once;
 * the primary key makes a second delivery lose the race. `RunStore.createForEvent` records the
 * key and the run together; this is the bare claim for callers that need only that.
 */
export class EventStore {
  constructor(private readonly db: Db) {}

  /** True for the first claim of a key, false for every later one. */
  async claim(key: UploadEventKey): Promise<boolean> {
    const rows = await query(
      this.db,
      'insert into upload_events (bucket, object, generation) values ($1, $2, $3) on conflict do nothing returning bucket',
      [key.bucket, key.object, key.generation],
    );
    return rows.length === 1;
  }
}
