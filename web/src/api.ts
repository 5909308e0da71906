import type { RunGate, RunSplit } from '../../shared/contracts/run.ts';
/**
 * The page's only way to the control API (docs/control-api.md). Every call carries
 * `Authorization: Bearer <token>`; a 401 clears the token and asks for a new one. Errors come
 * back as `ApiError` with the API's stable `code` and its human `message`, which views show as is.
 */

import type { DatasetProfile as ValidatedProfile, ValidationAnswer } from '../../shared/contracts/dataset.ts';
import { collectPages, type Page } from '../../shared/contracts/paging.ts';
import type { PredictInstance, PredictResponse as Prediction } from '../../shared/contracts/prediction.ts';
import type {
  AliasChange,
  Deployment,
  ModelSummary,
  ModelVersion,
  Run,
  RunDetail as RunDetailWire,
  StatusChange,
  StoredMetric,
} from '../../shared/contracts/run.ts';
import type { Evaluation } from '../../shared/contracts/trainer.ts';
import { clearToken, getToken } from './auth.ts';

// Wire shapes are contracts (shared/contracts/); the page imports them from there only.
export type {
  AliasChange,
  Deployment,
  Evaluation,
  ModelSummary,
  ModelVersion,
  Prediction,
  Run,
  StatusChange,
  StoredMetric,
  ValidationAnswer,
};

/** `GET /v1/runs/:runId` as the page holds it: `metrics` flattened to the latest values by
 *  `normalizeRun`; the rest optional so the page degrades gracefully when an API version does
 *  not send them. */
export interface RunDetail extends Run {
  dataset?: (Partial<ValidatedProfile> & Partial<NonNullable<RunDetailWire['dataset']>>) | null;
  metrics?: Record<string, number>;
  history?: StatusChange[];
  evaluation?: Evaluation | null;
  split?: RunSplit | null;
  gate?: RunGate | null;
}

export type { RunGate, RunSplit };

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

/** Raised on 401 so the shell can show the sign-in form. */
export const UNAUTHENTICATED_EVENT = 'droptune:unauthenticated';

interface RequestOptions {
  method?: string;
  body?: unknown;
  /** Raw body (a File for uploads); sent with its own content type. */
  raw?: Blob | string;
  contentType?: string;
  signal?: AbortSignal;
  /** Send the bearer token (default true; false for signed upload URLs on another origin). */
  auth?: boolean;
}

export async function request<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = {};
  const token = getToken();
  if (options.auth !== false && token) headers.Authorization = `Bearer ${token}`;
  let body: BodyInit | undefined;
  if (options.raw !== undefined) {
    body = options.raw;
    headers['Content-Type'] = options.contentType ?? 'application/octet-stream';
  } else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['Content-Type'] = 'application/json';
  }
  let res: Response;
  try {
    res = await fetch(path, { method: options.method ?? 'GET', headers, body, signal: options.signal });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError(
      0,
      'unavailable',
      'Cannot reach the droptune control API. Is `droptune up` still running?',
    );
  }
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!res.ok) {
    const e = (
      json as { error?: { code?: string; message?: string; details?: Record<string, unknown> } } | null
    )?.error;
    if (res.status === 401 && options.auth !== false) {
      clearToken();
      window.dispatchEvent(new Event(UNAUTHENTICATED_EVENT));
    }
    throw new ApiError(
      res.status,
      e?.code ?? `http_${res.status}`,
      e?.message ?? `The server answered ${res.status} ${res.statusText}.`,
      e?.details,
    );
  }
  return json as T;
}

const enc = encodeURIComponent;

function qs(params: Record<string, string | number | undefined | null>): string {
  const parts = Object.entries(params)
    .filter(([, v]) => v !== undefined && v !== null && v !== '')
    .map(([k, v]) => `${enc(k)}=${enc(String(v))}`);
  return parts.length ? `?${parts.join('&')}` : '';
}

/**
 * The run detail answers `metrics: {latest, epochs}`; the page wants the latest values flat
 * (`metrics.accuracy`). Accepts either shape.
 */
export function normalizeRun(run: RunDetail): RunDetail {
  const m = run.metrics as unknown as { latest?: Record<string, number> } | undefined;
  if (m && typeof m === 'object' && m.latest && typeof m.latest === 'object') {
    return { ...run, metrics: m.latest };
  }
  return run;
}

/** Typed routes. Paths follow docs/control-api.md. */
export const api = {
  listRuns: (f: { modelName?: string; status?: string; limit?: number } = {}, signal?: AbortSignal) =>
    request<{ runs: RunDetail[] }>(`/v1/runs${qs(f)}`, { signal }).then((r) => r.runs.map(normalizeRun)),
  getRun: (runId: string, signal?: AbortSignal) =>
    request<RunDetail>(`/v1/runs/${enc(runId)}`, { signal }).then(normalizeRun),
  evaluation: (runId: string, signal?: AbortSignal) =>
    request<Evaluation>(`/v1/runs/${enc(runId)}/evaluation`, { signal }),
  metrics: (runId: string, afterId: number, signal?: AbortSignal) =>
    request<{ metrics: StoredMetric[] }>(`/v1/runs/${enc(runId)}/metrics${qs({ afterId })}`, { signal }).then(
      (r) => r.metrics,
    ),
  cancelRun: (runId: string) => request<Run>(`/v1/runs/${enc(runId)}/cancel`, { method: 'POST' }),
  /** Every model (the list pages: all pages are followed). */
  listModels: (signal?: AbortSignal) =>
    collectPages<ModelSummary>('models', (q) => request<Page>(`/v1/models?${q}`, { signal })),
  /** Every version of the model, newest first (all pages). */
  versions: (modelName: string, signal?: AbortSignal) =>
    collectPages<ModelVersion>('versions', (q) =>
      request<Page>(`/v1/models/${enc(modelName)}/versions?${q}`, { signal }),
    ),
  /** The model's latest deployments, newest first (one page: the page shows recent history). */
  deployments: (modelName: string, signal?: AbortSignal) =>
    request<{ deployments: Deployment[] }>(`/v1/models/${enc(modelName)}/deployments`, { signal }).then(
      (r) => r.deployments,
    ),
  /**
   * Deploys `version` and then moves `production` to it. With a pipeline behind the API this
   * answers 202 with the deploying execution and the alias moves once the version serves;
   * without one (tests, no deploy configured) the alias moves at once.
   */
  promote: (modelName: string, version: number) =>
    request<AliasChange>(`/v1/models/${enc(modelName)}/promote`, { method: 'POST', body: { version } }),
  /** Deploys the previous production version again, then moves `production` back to it. */
  rollback: (modelName: string) =>
    request<AliasChange>(`/v1/models/${enc(modelName)}/rollback`, { method: 'POST' }),
  /** Runs the trigger's validator on the file without storing it (nothing trains). */
  validate: (
    file: Blob,
    columns: { textColumn: string; labelColumn: string; task?: string },
    signal?: AbortSignal,
  ) =>
    request<ValidationAnswer>(`/v1/datasets:validate${qs(columns)}`, {
      method: 'POST',
      raw: file,
      contentType: 'text/csv',
      signal,
    }),
  getSettings: (modelName: string, signal?: AbortSignal) =>
    request<{ settings: Record<string, unknown>; stored: boolean }>(`/v1/models/${enc(modelName)}/settings`, {
      signal,
    }),
  /** Writes `<modelName>/droptune.json`, which the trigger reads for every upload of the model. */
  putSettings: (modelName: string, settings: unknown) =>
    request<{ settingsUri: string }>(`/v1/models/${enc(modelName)}/settings`, {
      method: 'PUT',
      body: settings,
    }),
  startUpload: (modelName: string, fileName: string) =>
    request<{ uploadUrl: string; datasetUri: string; headers?: Record<string, string> }>('/v1/uploads', {
      method: 'POST',
      body: { modelName, fileName },
    }),
  /** Puts bytes at an upload URL: same-origin URLs get the bearer token, signed URLs must not. */
  putUpload: (uploadUrl: string, data: Blob | string, contentType: string) => {
    const sameOrigin = new URL(uploadUrl, location.href).origin === location.origin;
    return request<unknown>(uploadUrl, { method: 'PUT', raw: data, contentType, auth: sameOrigin });
  },
  /** Prediction through the control API, which forwards to the model's production deployment. */
  predict: (modelName: string, instances: PredictInstance[]) =>
    request<Prediction>(`/v1/models/${enc(modelName)}:predict`, { method: 'POST', body: { instances } }),
};
