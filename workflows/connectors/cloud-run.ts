import { wfError } from '../runtime/errors.ts';
import type { BuiltinFn } from '../runtime/expr/compile.ts';
import { fromJs, isMap, toJs, type WfValue } from '../runtime/values.ts';
import { googleHttpError, operationError } from './gcp-errors.ts';
import { DeployError, type ServiceState, type ServingBackend } from './serving-backend.ts';

function specFrom(name: string, body: WfValue | undefined) {
  if (!isMap(body ?? null)) throw wfError('TypeError', 'services: body must be a Service map');
  const b = toJs(body as WfValue) as Record<string, any>;
  const container = b.template?.containers?.[0];
  if (!container?.image)
    throw googleHttpError(400, 'template.containers[0].image is required', 'badRequest', 'INVALID_ARGUMENT');
  const env: Record<string, string> = {};
  for (const e of container.env ?? []) if (e?.name) env[e.name] = String(e.value ?? '');
  return { name, image: container.image as string, env, body: b };
}

/** The v2 Service resource (the response of the completed operation, which the connector returns). */
function serviceResource(s: ServiceState): Record<string, unknown> {
  return {
    ...s.body,
    name: s.name,
    uri: s.uri,
    urls: [s.uri],
    generation: String(s.generation),
    observedGeneration: String(s.generation),
    latestReadyRevision: `${s.name}/revisions/${s.latestReadyRevision}`,
    latestCreatedRevision: `${s.name}/revisions/${s.latestCreatedRevision}`,
    terminalCondition: {
      type: 'Ready',
      state:
        s.latestReadyRevision && s.latestReadyRevision === s.latestCreatedRevision
          ? 'CONDITION_SUCCEEDED'
          : 'CONDITION_FAILED',
    },
    reconciling: false,
  };
}

async function rollOut(
  backend: ServingBackend,
  name: string,
  run: () => Promise<ServiceState>,
): Promise<WfValue> {
  try {
    return fromJs(serviceResource(await run()));
  } catch (err) {
    if (err instanceof DeployError) {
      throw operationError(err.message, {
        name: `${name.replace(/\/services\/.*/, '')}/operations/${err.revision}`,
        done: true,
        error: { code: 9, message: err.message },
      });
    }
    throw err;
  }
}

/**
 * `googleapis.run.v2.projects.locations.services.create/patch/get/delete` bound to a
 * ServingBackend. create/patch wait for the rollout like the cloud connector and answer the
 * Service; a revision that never gets ready raises OperationError and keeps the old one serving.
 */
export function cloudRunBindings(backend: ServingBackend): Record<string, BuiltinFn> {
  const P = 'googleapis.run.v2.projects.locations.services';
  return {
    [`${P}.create`]: {
      params: ['parent', 'serviceId', 'validateOnly', 'body', 'connector_params'],
      min: 2,
      blocking: true,
      fn: ([parent, serviceId, , body]) => {
        if (typeof parent !== 'string' || typeof serviceId !== 'string')
          throw wfError('TypeError', 'services.create: parent and serviceId must be strings');
        if (!/^[a-z]([a-z0-9-]{0,47}[a-z0-9])?$/.test(serviceId)) {
          throw googleHttpError(
            400,
            `serviceId ${serviceId} must begin with a letter, use lowercase letters, digits and hyphens, and be under 50 characters`,
            'badRequest',
            'INVALID_ARGUMENT',
          );
        }
        const name = `${parent}/services/${serviceId}`;
        if (backend.get(name))
          throw googleHttpError(
            409,
            `Resource '${serviceId}' already exists.`,
            'alreadyExists',
            'ALREADY_EXISTS',
          );
        return rollOut(backend, name, () => backend.create(specFrom(name, body as WfValue)));
      },
    },
    [`${P}.patch`]: {
      params: ['name', 'allowMissing', 'updateMask', 'validateOnly', 'body', 'connector_params'],
      min: 1,
      blocking: true,
      fn: ([name, allowMissing, , , body]) => {
        if (typeof name !== 'string') throw wfError('TypeError', 'services.patch: name must be a string');
        if (!backend.get(name)) {
          if (allowMissing === true)
            return rollOut(backend, name, () => backend.create(specFrom(name, body as WfValue)));
          throw googleHttpError(404, `Resource '${name}' was not found`, 'notFound', 'NOT_FOUND');
        }
        return rollOut(backend, name, () => backend.update(specFrom(name, body as WfValue)));
      },
    },
    [`${P}.get`]: {
      params: ['name'],
      min: 1,
      blocking: true,
      fn: ([name]) => {
        const s = typeof name === 'string' ? backend.get(name) : undefined;
        if (!s)
          throw googleHttpError(404, `Resource '${String(name)}' was not found`, 'notFound', 'NOT_FOUND');
        return fromJs(serviceResource(s));
      },
    },
    // Local services have no IAM: the policy is accepted and answered back (the cloud applies it).
    [`${P}.setIamPolicy`]: {
      params: ['resource', 'body'],
      min: 2,
      blocking: true,
      fn: ([resource, body]) => {
        if (typeof resource !== 'string' || !backend.get(resource)) {
          throw googleHttpError(404, `Resource '${String(resource)}' was not found`, 'notFound', 'NOT_FOUND');
        }
        const policy = isMap(body ?? null) ? (body as Record<string, WfValue>).policy : null;
        return policy ?? null;
      },
    },
    [`${P}.delete`]: {
      params: ['name', 'validateOnly', 'etag', 'connector_params'],
      min: 1,
      blocking: true,
      fn: async ([name]) => {
        const s = typeof name === 'string' ? backend.get(name) : undefined;
        if (!s || !(await backend.delete(name as string))) {
          throw googleHttpError(404, `Resource '${String(name)}' was not found`, 'notFound', 'NOT_FOUND');
        }
        return fromJs(serviceResource(s));
      },
    },
  };
}
