import { capDetails, capText } from '../../shared/bounded.ts';
import { isTerminal } from '../../shared/contracts/run-status.ts';
import { AppError, toAppError } from '../../shared/errors.ts';
import type { ObjectStore } from '../../shared/storage/index.ts';
import type { Run, TrackingStore, UploadEventKey } from '../../shared/store/index.ts';
import type { WorkflowStarter } from '../workflow-starter/port.ts';
import { matchDatasetObject, StorageObjectData } from './dataset-event.ts';
import { DEFAULT_LIMITS, type ValidationLimits } from './limits.ts';
import { readModelSettings } from './model-settings-file.ts';
import type { DatasetRejection } from './rejection.ts';
import { trainParams, validateOptionsOf } from './train-params.ts';
import { formatBytes, validateCsv } from './validate-csv.ts';

export interface DatasetTriggerDeps {
  store: TrackingStore;
  /** The object store of both buckets (one scheme per deployment). */
  objects: ObjectStore;
  workflows: WorkflowStarter;
  /** The bucket the trigger watches; events from any other bucket are ignored. */
  datasetsBucket: string;
  /** Where rejection reports go (`reports/<runId>.json`); never watched by the trigger. */
  modelsBucket: string;
  limits?: Partial<ValidationLimits>;
  /** Defaults under every droptune.json (the local stack sets the offline base model). */
  defaultSettings?: { baseModel?: string };
  /**
   * How long a run being validated belongs to the delivery that created it (default 10 min:
   * longer than validating the largest allowed file). A later delivery of the same event takes
   * over only after that, or at once if the owner recorded a transient failure.
   */
  leaseMs?: number;
  log?: (entry: Record<string, unknown>) => void;
}

export type TriggerOutcome =
  | { action: 'ignored'; reason: string }
  | { action: 'duplicate'; runId: string; status: string }
  | { action: 'rejected'; runId: string; code: string; message: string }
  | { action: 'started'; runId: string; executionId: string }
  | { action: 'failed'; runId: string; message: string };

/**
 * Builds the handler of `google.cloud.storage.object.v1.finalized` events for the datasets bucket.
 *
 * Exactly one run per (bucket, object, generation): the store records the key and the run in one
 * transaction; concurrent deliveries in this process share one attempt; a delivery that finds the
 * run mid-flight in another process throws `unavailable` (redelivered later), and one that finds
 * it done (terminal, or with an execution id) returns. Validation runs before anything that costs
 * money. Transient failures (database, storage, Workflows API) are thrown so the event is
 * redelivered; permanent ones (a bad CSV or droptune.json, a missing workflow) are recorded on the
 * run and the handler returns normally.
 */
export function buildDatasetTrigger(deps: DatasetTriggerDeps): (data: unknown) => Promise<TriggerOutcome> {
  const inflight = new Map<string, Promise<TriggerOutcome>>();
  const log =
    deps.log ?? ((entry) => console.log(JSON.stringify({ component: 'onDatasetUploaded', ...entry })));
  const limits: ValidationLimits = { ...DEFAULT_LIMITS, ...deps.limits };
  const leaseMs = deps.leaseMs ?? 10 * 60_000;

  return async (data) => {
    const parsed = StorageObjectData.safeParse(data);
    if (!parsed.success)
      return ignored(log, `event data is not a storage object: ${parsed.error.issues[0]?.message}`);
    const object = parsed.data;
    if (object.bucket !== deps.datasetsBucket)
      return ignored(log, `bucket ${object.bucket} is not the datasets bucket`, object);
    const match = matchDatasetObject(object.name);
    if ('ignore' in match) return ignored(log, match.ignore, object);
    const key: UploadEventKey = { bucket: object.bucket, object: object.name, generation: object.generation };
    const id = `${key.bucket}/${key.object}#${key.generation}`;
    const running = inflight.get(id);
    if (running) return running;
    const unsafe = 'unsafe' in match ? match.unsafe : undefined;
    const attempt = handleUpload(key, match.modelName, object.size, unsafe).finally(() =>
      inflight.delete(id),
    );
    inflight.set(id, attempt);
    return attempt;
  };

  async function handleUpload(
    key: UploadEventKey,
    modelName: string,
    size: number | undefined,
    unsafeName: string | undefined,
  ): Promise<TriggerOutcome> {
    const datasetUri = `${deps.objects.scheme}://${key.bucket}/${key.object}`;
    const settings = await readModelSettings(deps.objects, key.bucket, modelName, deps.defaultSettings);
    const params = 'settings' in settings ? settings.settings : {};
    const { run, created } = await deps.store.runs.createForEvent(key, {
      modelName,
      datasetUri,
      datasetGeneration: key.generation,
      params,
    });
    if (!created) {
      if (isTerminal(run.status) || run.executionId) {
        log({ msg: 'duplicate delivery', runId: run.runId, status: run.status, ...key });
        return { action: 'duplicate', runId: run.runId, status: run.status };
      }
      const fresh = Date.now() - Date.parse(run.updatedAt) < leaseMs;
      if (fresh && run.transientFailure === null) {
        throw new AppError(
          'unavailable',
          `run ${run.runId} for this upload is being prepared by another delivery; retry later`,
        );
      }
      log({ msg: 'taking over an unfinished run', runId: run.runId, ...key });
    }
    try {
      // Before anything reads the object: a name a URI parser or a URL decoder would change is
      // never passed on (the trainer would read another object than the one validated).
      if (unsafeName)
        return await rejectRun(run, { code: 'invalid_object_name', message: unsafeName, details: {} });
      if ('rejection' in settings) return await rejectRun(run, settings.rejection);
      return await validateAndStart(run, key, modelName, datasetUri, size, params as Record<string, unknown>);
    } catch (err) {
      const e = toAppError(err);
      if (e.retryable) {
        await deps.store.runs.update(run.runId, { transientFailure: e.message }).catch(() => {});
        log({ msg: 'transient failure; the event will be redelivered', runId: run.runId, error: e.message });
        throw e;
      }
      // Permanent and unexpected (a bug, a corrupt object): redelivery would fail the same way for
      // a day, so record it on the run and return. If even that fails, let the event come back.
      const message = `could not prepare the run: ${e.code === 'internal' ? (err as Error).message : e.message}`;
      await deps.store.runs.transition(run.runId, 'failed', { error: message });
      log({ msg: 'permanent failure', runId: run.runId, error: message });
      return { action: 'failed', runId: run.runId, message };
    }
  }

  async function validateAndStart(
    run: Run,
    key: UploadEventKey,
    modelName: string,
    datasetUri: string,
    eventSize: number | undefined,
    params: Record<string, unknown>,
  ): Promise<TriggerOutcome> {
    await deps.store.runs.transition(run.runId, 'validating', {}, 'validating the dataset');
    const stat = await deps.objects.statIfExists(key.bucket, key.object);
    if (!stat) {
      return rejectRun(run, {
        code: 'empty_file',
        message: `${datasetUri} was deleted before it could be read. Upload it again.`,
        details: {},
      });
    }
    if (stat.generation !== key.generation) {
      return rejectRun(run, {
        code: 'empty_file',
        message: `${datasetUri} was replaced by a newer upload (generation ${stat.generation}) before this one (generation ${key.generation}) could be read; the newer upload has its own run.`,
        details: { generation: key.generation, newerGeneration: stat.generation },
      });
    }
    const size = stat.size ?? eventSize;
    if (size > limits.maxFileBytes) {
      return rejectRun(run, {
        code: 'file_too_large',
        message: `the file is ${formatBytes(size)}, larger than ${formatBytes(limits.maxFileBytes)} (the limit). Split it, or sample it down to fewer rows.`,
        details: { bytes: size, limit: limits.maxFileBytes },
      });
    }
    const result = await validateCsv(await deps.objects.createReadStream(key.bucket, key.object), {
      ...validateOptionsOf(params),
      limits,
    });
    if (!result.ok) return rejectRun(run, result.rejection);
    const p = result.profile;
    const dataset = await deps.store.datasets.upsert({
      modelName,
      datasetUri,
      generation: key.generation,
      sha256: p.sha256,
      bytes: p.bytes,
      rows: p.rows,
      labelCounts: p.labelCounts,
      textLength: p.textLength,
    });
    // The trainer never detects: it trains the task (and reads the target column) validated here.
    const resolved = trainParams(params, p);
    await deps.store.runs.transition(run.runId, 'validating', {
      datasetId: dataset.datasetId,
      error: null,
      transientFailure: null,
      params: resolved,
    });
    let executionId: string;
    try {
      ({ executionId } = await deps.workflows.start({
        runId: run.runId,
        modelName,
        datasetUri,
        params: resolved,
      }));
    } catch (err) {
      const e = toAppError(err);
      if (e.retryable) throw e;
      await deps.store.runs.transition(run.runId, 'failed', { error: e.message });
      log({ msg: 'workflow start failed permanently', runId: run.runId, error: e.message });
      return { action: 'failed', runId: run.runId, message: e.message };
    }
    await deps.store.runs.update(run.runId, { executionId, error: null, transientFailure: null });
    log({ msg: 'workflow started', runId: run.runId, executionId, rows: p.rows, ...key });
    return { action: 'started', runId: run.runId, executionId };
  }

  /**
   * Writes the report first (so a stored rejection always has one), then marks the run rejected.
   * Message and details are bounded (shared/bounded.ts): they echo the file's own contents.
   */
  async function rejectRun(run: Run, full: DatasetRejection): Promise<TriggerOutcome> {
    const rejection: DatasetRejection = {
      code: full.code,
      message: capText(full.message),
      details: capDetails(full.details),
    };
    const report = {
      runId: run.runId,
      modelName: run.modelName,
      datasetUri: run.datasetUri,
      datasetGeneration: run.datasetGeneration,
      status: 'rejected',
      error: rejection,
      createdAt: new Date().toISOString(),
    };
    await deps.objects.write(
      deps.modelsBucket,
      `reports/${run.runId}.json`,
      `${JSON.stringify(report, null, 2)}\n`,
      {
        contentType: 'application/json',
      },
    );
    await deps.store.runs.transition(run.runId, 'rejected', { error: rejection.message }, rejection.code);
    log({ msg: 'dataset rejected', runId: run.runId, code: rejection.code, error: rejection.message });
    return { action: 'rejected', runId: run.runId, code: rejection.code, message: rejection.message };
  }
}

function ignored(
  log: (entry: Record<string, unknown>) => void,
  reason: string,
  object?: { bucket: string; name: string },
): TriggerOutcome {
  log({ msg: 'ignored', reason, bucket: object?.bucket, object: object?.name });
  return { action: 'ignored', reason };
}
