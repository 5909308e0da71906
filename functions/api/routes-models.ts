import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import {
  Alias,
  AliasBody,
  DeploymentBody,
  PageQuery,
  PromoteBody,
  RegisterVersionBody,
} from '../../shared/contracts/api.ts';
import { ModelName } from '../../shared/contracts/model-settings.ts';
import type { WorkflowStarter } from '../workflow-starter/port.ts';
import {
  assertDeploymentUrl,
  assertMayRecordDeployment,
  type DeploymentPolicy,
} from './deployment-policy.ts';
import { pageAfter, pageQuery, toPage } from './paging.ts';
import { parse } from './parse.ts';
import { type RegisterDeps, registerVersion } from './register-version.ts';

const ModelParams = z.object({ modelName: ModelName });
const AliasParams = z.object({ modelName: ModelName, alias: Alias });
const VersionParams = z.object({ modelName: ModelName, version: z.coerce.number().int().min(1) });

/** Models: list, versions, register, aliases (set, history, rollback), deployments. */
export function registerModelRoutes(
  app: FastifyInstance,
  deps: RegisterDeps & { workflows?: WorkflowStarter; deployments?: DeploymentPolicy },
): void {
  const { store } = deps;

  app.get('/v1/models', async (request) => {
    const { spec, pageSize, pageToken } = pageQuery('models', parse(PageQuery, request.query, 'query'));
    const rows = await store.models.list({
      limit: pageSize + 1,
      afterModelName: pageAfter<string>(spec, pageToken, 'string'),
    });
    const { items, nextPageToken } = toPage(spec, rows, pageSize, (m) => m.modelName);
    return { models: items, nextPageToken };
  });

  app.get('/v1/models/:modelName', async (request) => {
    const { modelName } = parse(ModelParams, request.params, 'path');
    return store.models.summary(modelName);
  });

  app.get('/v1/models/:modelName/versions', async (request) => {
    const { modelName } = parse(ModelParams, request.params, 'path');
    const q = parse(PageQuery, request.query, 'query');
    const { spec, pageSize, pageToken } = pageQuery('versions', q, { modelName });
    const rows = await store.models.versions(modelName, {
      limit: pageSize + 1,
      beforeVersion: pageAfter<number>(spec, pageToken, 'number'),
    });
    const { items, nextPageToken } = toPage(spec, rows, pageSize, (v) => v.version);
    return { versions: items, nextPageToken };
  });

  app.get('/v1/models/:modelName/versions/:version', async (request) => {
    const { modelName, version } = parse(VersionParams, request.params, 'path');
    return store.models.version(modelName, version);
  });

  app.post('/v1/models/:modelName/versions', async (request, reply) => {
    const { modelName } = parse(ModelParams, request.params, 'path');
    const { runId } = parse(RegisterVersionBody, request.body, 'body');
    const { version, created } = await registerVersion(deps, modelName, runId);
    return reply.status(created ? 201 : 200).send(version);
  });

  app.get('/v1/models/:modelName/aliases', async (request) => {
    const { modelName } = parse(ModelParams, request.params, 'path');
    return {
      production: await store.models.alias(modelName, 'production'),
      candidate: await store.models.alias(modelName, 'candidate'),
      history: await store.models.aliasHistory(modelName),
    };
  });

  app.put('/v1/models/:modelName/aliases/:alias', async (request) => {
    const { modelName, alias } = parse(AliasParams, request.params, 'path');
    const { version, reason, kind } = parse(AliasBody, request.body, 'body');
    return store.models.setAlias(
      modelName,
      alias,
      version,
      reason ?? `set by ${request.principal?.subject ?? 'unknown'}`,
      kind,
    );
  });

  /**
   * Promote and rollback change what the prediction URL serves, so they deploy before they move
   * the alias: both start the pipeline's promote action (deploy the version, wait for it to be
   * ready, then move `production` and record the deployment) and answer 202 with the execution.
   * A failed deploy leaves production where it was. Without a workflow starter (no pipeline to
   * deploy with) only the alias moves.
   */
  /**
   * Deploys of one model are serialised: the model is taken (store.deployLocks) before its
   * execution starts, so a second promote or rollback while one deploys is a 409 naming the one
   * in flight (two executions finishing in either order could leave production on the older
   * version). Recording the deployment frees the model; a failed start frees it at once.
   */
  const promote = async (
    request: FastifyRequest,
    modelName: string,
    move: { version: number; previousVersion: number | null; kind: 'promote' | 'rollback' },
  ) => {
    const { version, previousVersion, kind } = move;
    if (!deps.workflows) {
      return kind === 'rollback'
        ? store.models.rollback(modelName)
        : store.models.setAlias(modelName, 'production', version, 'promoted (no deploy configured)');
    }
    const holder = request.principal?.subject ?? 'unknown';
    const lock = await store.deployLocks.acquire(modelName, { version, kind, holder });
    let executionId: string;
    try {
      ({ executionId } = await deps.workflows.start({ action: 'promote', modelName, version, kind }));
    } catch (err) {
      await store.deployLocks.release(modelName, lock.lockId);
      throw err;
    }
    await store.deployLocks.started(modelName, lock.lockId, executionId);
    return { modelName, alias: 'production', version, previousVersion, executionId, state: 'deploying' };
  };

  app.post('/v1/models/:modelName/promote', async (request, reply) => {
    const { modelName } = parse(ModelParams, request.params, 'path');
    const { version } = parse(PromoteBody, request.body, 'body');
    await store.models.version(modelName, version);
    const previousVersion = await store.models.alias(modelName, 'production');
    return reply
      .status(deps.workflows ? 202 : 200)
      .send(await promote(request, modelName, { version, previousVersion, kind: 'promote' }));
  });

  app.post('/v1/models/:modelName/rollback', async (request, reply) => {
    const { modelName } = parse(ModelParams, request.params, 'path');
    const { current, target } = await store.models.rollbackTarget(modelName);
    return reply
      .status(deps.workflows ? 202 : 200)
      .send(
        await promote(request, modelName, { version: target, previousVersion: current, kind: 'rollback' }),
      );
  });

  /** The deploy in flight, if any (`{deploy: null}` when the model is free). */
  app.get('/v1/models/:modelName/deploy-lock', async (request) => {
    const { modelName } = parse(ModelParams, request.params, 'path');
    return { deploy: await store.deployLocks.current(modelName) };
  });

  /** Frees a model whose deploy died without recording (what a failed promote execution does too). */
  app.delete('/v1/models/:modelName/deploy-lock', async (request) => {
    const { modelName } = parse(ModelParams, request.params, 'path');
    return { released: await store.deployLocks.release(modelName) };
  });

  app.post('/v1/models/:modelName/deployments', async (request, reply) => {
    const { modelName } = parse(ModelParams, request.params, 'path');
    const policy = deps.deployments ?? {};
    assertMayRecordDeployment(request.principal, policy);
    const body = parse(DeploymentBody, request.body, 'body');
    await store.models.version(modelName, body.version);
    const url = assertDeploymentUrl(modelName, body.url, policy);
    return reply.status(201).send(await store.models.recordDeployment({ modelName, ...body, url }));
  });

  app.get('/v1/models/:modelName/deployments', async (request) => {
    const { modelName } = parse(ModelParams, request.params, 'path');
    const q = parse(PageQuery, request.query, 'query');
    const { spec, pageSize, pageToken } = pageQuery('deployments', q, { modelName });
    const rows = await store.models.deployments(modelName, {
      limit: pageSize + 1,
      beforeId: pageAfter<number>(spec, pageToken, 'number'),
    });
    const { items, nextPageToken } = toPage(spec, rows, pageSize, (d) => d.id);
    return { deployments: items, nextPageToken };
  });
}
