import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { DatasetsQuery } from '../../shared/contracts/api.ts';
import type { TrackingStore } from '../../shared/store/index.ts';
import { pageAfter, pageQuery, toPage } from './paging.ts';
import { parse } from './parse.ts';

const DatasetParams = z.object({ datasetId: z.string().min(1).max(100) });

/** Dataset profiles (rows, bytes, sha256, label counts, text lengths) recorded by the trigger. */
export function registerDatasetRoutes(app: FastifyInstance, deps: { store: TrackingStore }): void {
  app.get('/v1/datasets', async (request) => {
    const { spec, pageSize, pageToken, filters } = pageQuery(
      'datasets',
      parse(DatasetsQuery, request.query, 'query'),
    );
    const rows = await deps.store.datasets.list({
      ...filters,
      limit: pageSize + 1,
      afterDatasetId: pageAfter<string>(spec, pageToken, 'string'),
    });
    const { items, nextPageToken } = toPage(spec, rows, pageSize, (d) => d.datasetId);
    return { datasets: items, nextPageToken };
  });
  app.get('/v1/datasets/:datasetId', async (request) => {
    const { datasetId } = parse(DatasetParams, request.params, 'path');
    return deps.store.datasets.get(datasetId);
  });
}
