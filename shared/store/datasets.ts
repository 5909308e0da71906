import { randomUUID } from 'node:crypto';
import { type Db, query } from '../db/tx.ts';
import { AppError } from '../errors.ts';
import { toDataset } from './rows.ts';
import type { Dataset, DatasetProfile } from './types.ts';

export class DatasetStore {
  constructor(private readonly db: Db) {}

  /** Records a profiled upload; the same (datasetUri, generation) twice returns the first record. */
  async upsert(profile: DatasetProfile): Promise<Dataset> {
    const rows = await query(
      this.db,
      `insert into datasets (dataset_id, model_name, dataset_uri, generation, sha256, bytes, rows, label_counts, text_length)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       on conflict (dataset_uri, generation) do update set dataset_uri = excluded.dataset_uri
       returning *`,
      [
        `d-${randomUUID().replaceAll('-', '').slice(0, 12)}`,
        profile.modelName,
        profile.datasetUri,
        profile.generation,
        profile.sha256,
        profile.bytes,
        profile.rows,
        profile.labelCounts,
        profile.textLength,
      ],
    );
    return toDataset(rows[0]!);
  }

  async get(datasetId: string): Promise<Dataset> {
    const rows = await query(this.db, 'select * from datasets where dataset_id = $1', [datasetId]);
    if (!rows[0])
      throw new AppError('not_found', `dataset ${datasetId} does not exist`, { details: { datasetId } });
    return toDataset(rows[0]);
  }

  /** Newest first; `afterDatasetId` continues after that dataset (the last of the previous page). */
  async list(
    filter: { modelName?: string; limit?: number; afterDatasetId?: string } = {},
  ): Promise<Dataset[]> {
    const rows = await query(
      this.db,
      `select * from datasets where ($1::text is null or model_name = $1)
         and ($3::text is null or (created_at, dataset_id) < (select created_at, dataset_id from datasets where dataset_id = $3))
       order by created_at desc, dataset_id desc limit $2`,
      [filter.modelName ?? null, Math.min(filter.limit ?? 100, 10_000), filter.afterDatasetId ?? null],
    );
    return rows.map(toDataset);
  }
}
