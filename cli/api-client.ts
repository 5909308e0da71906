import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { collectPages, DEFAULT_PAGE_SIZE, type Page } from '../shared/contracts/paging.ts';
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

  /** Every item of a paged list at `path` (at most `max`), following `nextPageToken`. */
  private all<T>(path: string, field: string, max?: number): Promise<T[]> {
    const sep = path.includes('?') ? '&' : '?';
    return collectPages<T>(field, (query) => this.request<Page>('GET', `${path}${sep}${query}`), { max });
  }

  /** Runs newest first, following pages up to `limit` (default 100). */
  async runs(filter: { modelName?: string; status?: string; limit?: number } = {}): Promise<{ runs: Run[] }> {
    const { limit = DEFAULT_PAGE_SIZE, ...rest } = filter;
    const q = new URLSearchParams(
      Object.entries(rest)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, String(v)]),
    );
    return { runs: await this.all<Run>(`/v1/runs${q.size ? `?${q}` : ''}`, 'runs', limit) };
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
  /** Every model (all pages). */
  async models(): Promise<{ models: ModelSummary[] }> {
    return { models: await this.all<ModelSummary>('/v1/models', 'models') };
  }
  /** One model, or not_found. */
  model(modelName: string): Promise<ModelSummary> {
    return this.request('GET', `/v1/models/${encodeURIComponent(modelName)}`);
  }
  /** Every version of a model, newest first (all pages). */
  async versions(modelName: string): Promise<{ versions: ModelVersion[] }> {
    const path = `/v1/models/${encodeURIComponent(modelName)}/versions`;
    return { versions: await this.all<ModelVersion>(path, 'versions') };
  }
  /** Starts the promote (deploy, then move production); see `waitForProduction`. */
  promote(modelName: string, version: number): Promise<AliasChange> {
    return this.request('POST', `/v1/models/${encodeURIComponent(modelName)}/promote`, { version });
  }
  rollback(modelName: string): Promise<AliasChange> {
    return this.request('POST', `/v1/models/${encodeURIComponent(modelName)}/rollback`);
  }

  /**
   * Waits until `production` of `modelName` is `version` and the latest deployment is of it,
   * i.e. the promote execution finished. A failed deploy leaves production unchanged, which
   * shows here as a timeout saying so.
   */
  async waitForProduction(modelName: string, version: number, timeoutMs = 300_000): Promise<ModelSummary> {
    const end = Date.now() + timeoutMs;
    const path = `/v1/models/${encodeURIComponent(modelName)}/deployments?pageSize=1`;
    while (Date.now() < end) {
      const model = await this.model(modelName).catch((err: unknown) => {
        if (err instanceof AppError && err.code === 'not_found') return undefined;
        throw err;
      });
      if (model?.productionVersion === version) {
        const { deployments } = await this.request<{ deployments: Array<{ version: number; url: string }> }>(
          'GET',
          path,
        );
        if (deployments[0]?.version === version) return { ...model, url: deployments[0].url };
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new AppError(
      'deadline_exceeded',
      `v${version} of ${modelName} was not serving within ${timeoutMs / 1000} s; production is unchanged (the stack's log says why the deploy failed)`,
    );
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
