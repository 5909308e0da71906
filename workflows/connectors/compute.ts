import { randomUUID } from 'node:crypto';
import { wfError } from '../runtime/errors.ts';
import type { BuiltinFn } from '../runtime/expr/compile.ts';
import { fromJs, isMap, toJs, type WfValue } from '../runtime/values.ts';
import { googleHttpError, operationError } from './gcp-errors.ts';
import { InsertError, type InstanceState, type TrainingBackend } from './training-backend.ts';

/** Metadata item holding the trainer environment as JSON (read by the VM's startup script). */
export const TRAINER_ENV_METADATA_KEY = 'droptune-trainer-env';

const str = (fn: string, name: string, v: WfValue | undefined): string => {
  if (typeof v !== 'string' || v === '')
    throw wfError('TypeError', `${fn}: argument ${name} must be a non-empty string`);
  return v;
};

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
    zone: `projects/${project}/zones/${zone}`,
    targetLink: `projects/${project}/zones/${zone}/instances/${name}`,
    ...extra,
  };
}

/** The Instance resource `instances.get` answers with. */
function instanceResource(s: InstanceState): Record<string, unknown> {
  return {
    ...s.body,
    kind: 'compute#instance',
    name: s.name,
    zone: `projects/${s.project}/zones/${s.zone}`,
    status: s.status,
    creationTimestamp: s.createdAt.toISOString(),
    selfLink: `projects/${s.project}/zones/${s.zone}/instances/${s.name}`,
  };
}

function notFound(project: string, zone: string, name: string) {
  return googleHttpError(
    404,
    `The resource 'projects/${project}/zones/${zone}/instances/${name}' was not found`,
    'notFound',
    'NOT_FOUND',
  );
}

/**
 * `googleapis.compute.v1.instances.insert/get/delete` bound to a TrainingBackend. Like the
 * cloud connector, insert and delete wait for their operation and answer it (status DONE); a
 * failed operation raises OperationError carrying `operation.error.errors[].code`.
 */
export function computeBindings(backend: TrainingBackend): Record<string, BuiltinFn> {
  return {
    'googleapis.compute.v1.instances.insert': {
      params: [
        'project',
        'zone',
        'requestId',
        'sourceInstanceTemplate',
        'sourceMachineImage',
        'body',
        'connector_params',
      ],
      min: 2,
      blocking: true,
      fn: async ([project, zone, , , , body]) => {
        const fn = 'instances.insert';
        const p = str(fn, 'project', project);
        const z = str(fn, 'zone', zone);
        if (!isMap(body ?? null)) throw wfError('TypeError', `${fn}: body must be an Instance map`);
        const b = toJs(body as WfValue) as Record<string, any>;
        const name = str(fn, 'body.name', b.name);
        const items: { key: string; value: string }[] = b.metadata?.items ?? [];
        const envItem = items.find((i) => i.key === TRAINER_ENV_METADATA_KEY);
        if (!envItem) {
          throw googleHttpError(
            400,
            `local training backend: metadata item ${TRAINER_ENV_METADATA_KEY} (JSON of the trainer environment) is required`,
            'invalid',
          );
        }
        let env: Record<string, string>;
        try {
          env = JSON.parse(envItem.value);
        } catch {
          throw googleHttpError(
            400,
            `metadata item ${TRAINER_ENV_METADATA_KEY} is not valid JSON`,
            'invalid',
          );
        }
        const scheduling = b.scheduling ?? {};
        const maxRun = scheduling.maxRunDuration?.seconds;
        try {
          await backend.insert({
            project: p,
            zone: z,
            name,
            provisioningModel: scheduling.provisioningModel === 'SPOT' ? 'SPOT' : 'STANDARD',
            maxRunDurationSeconds: maxRun === undefined ? undefined : Number(maxRun),
            env: Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)])),
            body: b,
          });
        } catch (err) {
          if (!(err instanceof InsertError)) throw err;
          if (err.code === 'ALREADY_EXISTS')
            throw googleHttpError(409, err.message, 'alreadyExists', 'ALREADY_EXISTS');
          if (err.code === 'QUOTA_EXCEEDED')
            throw googleHttpError(403, err.message, 'quotaExceeded', 'PERMISSION_DENIED');
          const op = operation('insert', p, z, name, {
            error: { errors: [{ code: err.code, message: err.message }] },
          });
          throw operationError(`${err.code}: ${err.message}`, op);
        }
        return fromJs(operation('insert', p, z, name));
      },
    },
    'googleapis.compute.v1.instances.get': {
      params: ['instance', 'project', 'zone'],
      min: 3,
      blocking: true,
      fn: ([instance, project, zone]) => {
        const fn = 'instances.get';
        const [n, p, z] = [str(fn, 'instance', instance), str(fn, 'project', project), str(fn, 'zone', zone)];
        const s = backend.get(p, z, n);
        if (!s) throw notFound(p, z, n);
        return fromJs(instanceResource(s));
      },
    },
    'googleapis.compute.v1.instances.delete': {
      params: ['instance', 'project', 'zone', 'requestId', 'connector_params'],
      min: 3,
      blocking: true,
      fn: async ([instance, project, zone]) => {
        const fn = 'instances.delete';
        const [n, p, z] = [str(fn, 'instance', instance), str(fn, 'project', project), str(fn, 'zone', zone)];
        if (!(await backend.delete(p, z, n))) throw notFound(p, z, n);
        return fromJs(operation('delete', p, z, n));
      },
    },
  };
}
