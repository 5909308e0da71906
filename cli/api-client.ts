import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AppError, ERROR_CODES, type ErrorCode } from '../shared/errors.ts';
import type { ModelSummary, ModelVersion, Run, StoredMetric } from '../shared/store/index.ts';
import { readRunningStack } from './local-stack/stack-file.ts';

/** What promote/rollback answer: the move asked for, and the execution deploying it (202). */
export interface AliasChange {
  modelName: string;
  version: number;
  previousVersion: number | null;
  executionId?: string;
}

/** A run as the control API returns it from `GET /v1/runs/:runId`. */
export type RunDetail = Run & { metrics?: Record<string, unknown>; dataset?: unknown };

/**
 * The CLI's client of the control API: the local stack's (URL and token from
 * `$DROPTUNE_HOME`) or, with `--api <url>`, a cloud one (token from `DROPTUNE_API_TOKEN`).
 */
export class ApiClient {
  constructor(
    readonly baseUrl: string,
    private readonly token: string | undefined,
  ) {}

  static forOptions(opts: { api?: string; home?: string }): ApiClient {
    const home = opts.home ?? process.env.DROPTUNE_HOME ?? '.droptune';
    if (opts.api) return new ApiClient(opts.api.replace(/\/$/, ''), process.env.DROPTUNE_API_TOKEN);
    const stack = readRunningStack(home);
    return new ApiClient(stack.apiUrl, readFileSync(join(resolve(home), 'api-token'), 'utf8').trim());
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: {
          ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (err) {
      throw new AppError(
        'unavailable',
        `cannot reach the control API at ${this.baseUrl} (${(err as Error).message})`,
      );
    }
    const text = await res.text();
    const parsed = text ? safeJson(text) : undefined;
    if (!res.ok) {
      const e = (parsed as { error?: { code?: string; message?: string } } | undefined)?.error;
      const code = (e?.code ?? (res.status === 404 ? 'not_found' : 'internal')) as ErrorCode;
      throw new AppError(
        code in ERROR_CODES ? code : 'internal',
        e?.message ?? `${method} ${path}: HTTP ${res.status}`,
      );
    }
    return parsed as T;
  }

  runs(filter: { modelName?: string; status?: string; limit?: number } = {}): Promise<{ runs: Run[] }> {
    const q = new URLSearchParams(
      Object.entries(filter)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, String(v)]),
    );
    return this.request('GET', `/v1/runs${q.size ? `?${q}` : ''}`);
  }
  run(runId: string): Promise<RunDetail> {
    return this.request('GET', `/v1/runs/${encodeURIComponent(runId)}`);
  }
  metrics(runId: string, afterId = 0): Promise<{ metrics: StoredMetric[] }> {
    return this.request('GET', `/v1/runs/${encodeURIComponent(runId)}/metrics?afterId=${afterId}`);
  }
  cancel(runId: string): Promise<Run> {
    return this.request('POST', `/v1/runs/${encodeURIComponent(runId)}/cancel`);
  }
  models(): Promise<{ models: ModelSummary[] }> {
    return this.request('GET', '/v1/models');
  }
  versions(modelName: string): Promise<{ versions: ModelVersion[] }> {
    return this.request('GET', `/v1/models/${encodeURIComponent(modelName)}/versions`);
  }
  promote(
    modelName: string,
    version: number,
  ): Promise<{ alias: string; version: number; previousVersion: number | null }> {
    return this.request('PUT', `/v1/models/${encodeURIComponent(modelName)}/aliases/production`, { version });
  }
  rollback(modelName: string): Promise<{ alias: string; version: number; previousVersion: number | null }> {
    return this.request('POST', `/v1/models/${encodeURIComponent(modelName)}/rollback`);
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
