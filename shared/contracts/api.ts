import { z } from 'zod';
import { ModelName } from './model-settings.ts';
import { MAX_PAGE_SIZE } from './paging.ts';
import { RunStatus } from './run-status.ts';

/**
 * Bodies and query strings of the control API (docs/control-api.md), one schema each. The API
 * checks every request with these; clients (CLI, web, workflow, trainer) may import them to
 * build requests. Query values arrive as strings, hence `z.coerce`.
 */

export const RunId = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/, 'a run id is 1-100 letters, digits, "_", "." or "-"');

/**
 * The paging fields of every list endpoint (functions/api/paging.ts, AIP-158): at most
 * `pageSize` items (default `DEFAULT_PAGE_SIZE`, ./paging.ts), continuing after the previous
 * answer's `nextPageToken`.
 */
const Paging = {
  pageSize: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).optional(),
  /** The previous answer's `nextPageToken`, unchanged (opaque). */
  pageToken: z.string().min(1).max(500).optional(),
  /** The earlier name of `pageSize`, still accepted (the reaper in pipeline.yaml sends it). */
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).optional(),
};

export const RunsQuery = z.strictObject({
  modelName: ModelName.optional(),
  /** One status or a comma-separated list (`queued,validating`). */
  status: z
    .string()
    .transform((s) => s.split(',').map((x) => x.trim()))
    .pipe(z.array(RunStatus).min(1))
    .optional(),
  ...Paging,
});

export const MetricsQuery = z.strictObject({
  key: z.string().min(1).max(200).optional(),
  afterId: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(100_000).default(10_000),
});

export const MetricPointBody = z.strictObject({
  key: z.string().min(1).max(200),
  step: z.number().int().min(0),
  epoch: z.number().min(0).nullable().optional(),
  value: z.number().refine(Number.isFinite, 'must be a finite number'),
  time: z.iso.datetime({ offset: true }).optional(),
});

/** The trainer's hot path: up to 10,000 points per request, stored in one statement. */
export const MetricsBody = z.strictObject({
  metrics: z.array(MetricPointBody).max(10_000),
});

export const StatusBody = z.strictObject({
  status: RunStatus,
  /** Human message; required in practice for `failed`, shown by the CLI and the web page. */
  error: z.string().max(10_000).nullable().optional(),
  /** Why, for the status history (defaults to `error`). */
  reason: z.string().max(2_000).optional(),
  machine: z.record(z.string(), z.unknown()).nullable().optional(),
  costEstimate: z.number().min(0).nullable().optional(),
  executionId: z.string().max(1_000).nullable().optional(),
});

export const RegisterVersionBody = z.strictObject({ runId: RunId });

export const Alias = z.enum(['production', 'candidate']);

export const AliasBody = z.strictObject({
  version: z.number().int().min(1),
  reason: z.string().max(2_000).optional(),
  /** `rollback` moves are skipped when the next rollback looks for the version before. */
  kind: z.enum(['promote', 'rollback']).default('promote'),
});

/** `POST /v1/models/:modelName/promote`: deploy this version, then point production at it. */
export const PromoteBody = z.strictObject({
  version: z.number().int().min(1),
});

export const DeploymentBody = z.strictObject({
  version: z.number().int().min(1),
  url: z.url(),
  revision: z.string().max(500).nullable().optional(),
  /** Also point `production` at `version`, in the same transaction as the record. */
  moveAlias: z
    .strictObject({
      kind: z.enum(['promote', 'rollback']).default('promote'),
      reason: z.string().max(2_000).optional(),
    })
    .optional(),
});

export const DatasetsQuery = z.strictObject({
  modelName: ModelName.optional(),
  ...Paging,
});

/** `GET /v1/models`, `/v1/models/:modelName/versions` and `/deployments`: paging only. */
export const PageQuery = z.strictObject({ pageSize: Paging.pageSize, pageToken: Paging.pageToken });

/** A dataset file name: no path, ends in `.csv` (it becomes `<modelName>/<fileName>` in the bucket). */
export const UploadFileName = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]{0,195}\.csv$/i,
    'a file name is letters, digits, ".", "_" or "-", ending in .csv',
  );

export const UploadBody = z.strictObject({
  modelName: ModelName,
  fileName: UploadFileName,
});

/** What `POST /v1/uploads` answers: PUT the CSV bytes to `uploadUrl` with `headers`. */
export const UploadTicket = z.object({
  uploadUrl: z.string(),
  method: z.literal('PUT'),
  headers: z.record(z.string(), z.string()),
  datasetUri: z.string(),
  expiresAt: z.string().nullable(),
});
export type UploadTicket = z.infer<typeof UploadTicket>;
