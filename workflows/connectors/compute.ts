import { randomUUID } from 'node:crypto';
import type { BuiltinFn } from '../runtime/expr/compile.ts';
import { fromJs, toJs, type WfValue } from '../runtime/values.ts';
import { parseFilter } from './compute-filter.ts';
import { googleHttpError, operationError } from './gcp-errors.ts';
import { strictConnector } from './strict-call.ts';
import {
  InsertError,
  type InstanceState,
  type TrainingBackend,
  type ZoneOperation,
} from './training-backend.ts';

/** Metadata item holding the trainer environment as JSON (read by the VM's startup script). */
export const TRAINER_ENV_METADATA_KEY = 'droptune-trainer-env';

const API = 'https://www.googleapis.com/compute/v1';
const instanceLink = (project: string, zone: string, name: string): string =>
  `${API}/projects/${project}/zones/${zone}/instances/${name}`;

function operation(
  type: string,
  project: string,
  zone: string,
  name: string,
  extra: Record<string, unknown> = {},
) {
  return {
    kind: 'compute#operation',
    id: randomUUID(),
    name: `operation-${Date.now()}-${randomUUID().slice(0, 8)}`,
    operationType: type,
    status: 'DONE',
    progress: 100,
    zone: `${API}/projects/${project}/zones/${zone}`,
    targetLink: instanceLink(project, zone, name),
    ...extra,
  };
}

/** The Instance resource `instances.get` and `instances.list` answer with. */
function instanceResource(s: InstanceState): Record<string, unknown> {
  return {
    ...s.body,
    kind: 'compute#instance',
    name: s.name,
    zone: `${API}/projects/${s.project}/zones/${s.zone}`,
    status: s.status,
    labels: s.labels,
    creationTimestamp: s.createdAt.toISOString(),
    selfLink: instanceLink(s.project, s.zone, s.name),
  };
}

/** A system event as `zoneOperations.list` answers it. */
function eventResource(e: ZoneOperation): Record<string, unknown> {
  return operation(e.operationType, e.project, e.zone, e.name, {
    startTime: e.time.toISOString(),
    endTime: e.time.toISOString(),
    user: 'system',
  });
}

function notFound(project: string, zone: string, name: string) {
  return googleHttpError(
    404,
    `The resource 'projects/${project}/zones/${zone}/instances/${name}' was not found`,
    'notFound',
    'NOT_FOUND',
  );
}

/** The trainer environment from the instance's metadata (the local twin's stand-in for the startup script). */
function trainerEnv(body: Record<string, any>): Record<string, string> {
  const items: { key: string; value: string }[] = body.metadata?.items ?? [];
  const envItem = items.find((i) => i.key === TRAINER_ENV_METADATA_KEY);
  if (!envItem) {
    throw googleHttpError(
      400,
      `local training backend: metadata item ${TRAINER_ENV_METADATA_KEY} (JSON of the trainer environment) is required`,
      'invalid',
    );
  }
  try {
    const env = JSON.parse(envItem.value) as Record<string, unknown>;
    return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)]));
  } catch {
    throw googleHttpError(400, `metadata item ${TRAINER_ENV_METADATA_KEY} is not valid JSON`, 'invalid');
  }
}

/** Compute Engine's answer to a failed insert: quota is HTTP 403, a stockout a failed operation. */
function insertFailure(err: InsertError, project: string, zone: string, name: string) {
  if (err.code === 'ALREADY_EXISTS')
    return googleHttpError(409, err.message, 'alreadyExists', 'ALREADY_EXISTS');
  if (err.code === 'QUOTA_EXCEEDED')
    return googleHttpError(403, err.message, 'quotaExceeded', 'PERMISSION_DENIED');
  const op = operation('insert', project, zone, name, {
    error: { errors: [{ code: err.code, message: err.message }] },
  });
  return operationError(`${err.code}: ${err.message}`, op);
}

/**
 * `googleapis.compute.v1.instances.insert/get/delete/list` and `zoneOperations.list` bound to a
 * TrainingBackend, each checked against the Compute Engine discovery document. Like the cloud
 * connector, insert and delete wait for their operation and answer it (status DONE); a failed
 * operation raises OperationError carrying `operation.error.errors[].code`. A preemption shows
 * up in `zoneOperations.list` as `compute.instances.preempted`; a maxRunDuration deletion does not.
 */
export function computeBindings(backend: TrainingBackend): Record<string, BuiltinFn> {
  const C = 'googleapis.compute.v1';
  return {
    [`${C}.instances.insert`]: strictConnector(`${C}.instances.insert`, async ({ project, zone, body }) => {
      const [p, z] = [String(project), String(zone)];
      const b = toJs(body as WfValue) as Record<string, any>;
      if (typeof b.name !== 'string')
        throw googleHttpError(
          400,
          "Invalid value for field 'resource.name': ''. Must be a match of regex '[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?'",
          'invalid',
          'INVALID_ARGUMENT',
        );
      const scheduling = b.scheduling ?? {};
      const maxRun = scheduling.maxRunDuration?.seconds;
      try {
        await backend.insert({
          project: p,
          zone: z,
          name: b.name,
          provisioningModel: scheduling.provisioningModel === 'SPOT' ? 'SPOT' : 'STANDARD',
          maxRunDurationSeconds: maxRun === undefined ? undefined : Number(maxRun),
          env: trainerEnv(b),
          body: b,
        });
      } catch (err) {
        if (err instanceof InsertError) throw insertFailure(err, p, z, b.name);
        throw err;
      }
      return fromJs(operation('insert', p, z, b.name));
    }),
    [`${C}.instances.get`]: strictConnector(`${C}.instances.get`, ({ instance, project, zone }) => {
      const [n, p, z] = [String(instance), String(project), String(zone)];
      const s = backend.get(p, z, n);
      if (!s) throw notFound(p, z, n);
      return fromJs(instanceResource(s));
    }),
    [`${C}.instances.list`]: strictConnector(`${C}.instances.list`, ({ project, zone, filter }) => {
      const match = parseFilter(filter as string | undefined);
      const items = backend
        .list()
        .filter((s) => s.project === project && s.zone === zone)
        .map(instanceResource)
        .filter(match);
      return fromJs({ kind: 'compute#instanceList', items });
    }),
    [`${C}.instances.delete`]: strictConnector(
      `${C}.instances.delete`,
      async ({ instance, project, zone }) => {
        const [n, p, z] = [String(instance), String(project), String(zone)];
        let deleted: boolean;
        try {
          deleted = await backend.delete(p, z, n);
        } catch (err) {
          if (err instanceof InsertError)
            throw googleHttpError(503, err.message, 'backendError', 'UNAVAILABLE');
          throw err;
        }
        if (!deleted) throw notFound(p, z, n);
        return fromJs(operation('delete', p, z, n));
      },
    ),
    [`${C}.zoneOperations.list`]: strictConnector(`${C}.zoneOperations.list`, ({ project, zone, filter }) => {
      const match = parseFilter(filter as string | undefined);
      const items = backend.operations(String(project), String(zone)).map(eventResource).filter(match);
      return fromJs({ kind: 'compute#operationList', items });
    }),
  };
}
