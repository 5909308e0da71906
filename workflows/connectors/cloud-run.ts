import type { BuiltinFn } from '../runtime/expr/compile.ts';
import { fromJs, isMap, toJs, type WfValue } from '../runtime/values.ts';
import { googleHttpError, operationError } from './gcp-errors.ts';
import { DeployError, type ServiceSpec, type ServiceState, type ServingBackend } from './serving-backend.ts';
import { strictConnector } from './strict-call.ts';

/**
 * The backend's view of a v2 Service body. The revision becomes ready only when its startup
 * probe passes: `httpGet.path` when the container declares one, otherwise Cloud Run's default
 * TCP probe (the port accepts a connection).
 */
function specFrom(name: string, body: WfValue | undefined): ServiceSpec {
  const b = toJs(body as WfValue) as Record<string, any>;
  const container = b.template?.containers?.[0];
  if (!container?.image)
    throw googleHttpError(400, 'template.containers[0].image is required', 'badRequest', 'INVALID_ARGUMENT');
  const env: Record<string, string> = {};
  for (const e of container.env ?? []) if (e?.name) env[e.name] = String(e.value ?? '');
  const probe = container.startupProbe;
  return {
    name,
    image: container.image as string,
    env,
    body: b,
    startupProbe: probe?.httpGet ? { path: String(probe.httpGet.path ?? '/') } : { tcp: true },
  };
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
    [`${P}.create`]: strictConnector(`${P}.create`, ({ parent, serviceId, body }) => {
      if (typeof serviceId !== 'string')
        throw googleHttpError(400, 'serviceId is required', 'badRequest', 'INVALID_ARGUMENT');
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
    }),
    [`${P}.patch`]: strictConnector(`${P}.patch`, ({ name: n, allowMissing, body }) => {
      const name = String(n);
      if (!backend.get(name)) {
        if (allowMissing === true)
          return rollOut(backend, name, () => backend.create(specFrom(name, body as WfValue)));
        throw googleHttpError(404, `Resource '${name}' was not found`, 'notFound', 'NOT_FOUND');
      }
      return rollOut(backend, name, () => backend.update(specFrom(name, body as WfValue)));
    }),
    [`${P}.get`]: strictConnector(`${P}.get`, ({ name }) => {
      const s = backend.get(String(name));
      if (!s) throw googleHttpError(404, `Resource '${String(name)}' was not found`, 'notFound', 'NOT_FOUND');
      return fromJs(serviceResource(s));
    }),
    // Local services have no IAM: the policy is accepted and answered back (the cloud applies it).
    [`${P}.setIamPolicy`]: strictConnector(`${P}.setIamPolicy`, ({ resource, body }) => {
      if (typeof resource !== 'string' || !backend.get(resource)) {
        throw googleHttpError(404, `Resource '${String(resource)}' was not found`, 'notFound', 'NOT_FOUND');
      }
      const policy = isMap(body ?? null) ? (body as Record<string, WfValue>).policy : null;
      return policy ?? null;
    }),
    [`${P}.delete`]: strictConnector(`${P}.delete`, async ({ name }) => {
      const s = backend.get(String(name));
      if (!s || !(await backend.delete(String(name)))) {
        throw googleHttpError(404, `Resource '${String(name)}' was not found`, 'notFound', 'NOT_FOUND');
      }
      return fromJs(serviceResource(s));
    }),
  };
}
