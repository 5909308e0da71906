import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { Alias, AliasBody, DeploymentBody, RegisterVersionBody } from '../../shared/contracts/api.ts';
import { ModelName } from '../../shared/contracts/model-settings.ts';
import { parse } from './parse.ts';
import { type RegisterDeps, registerVersion } from './register-version.ts';

const ModelParams = z.object({ modelName: ModelName });
const AliasParams = z.object({ modelName: ModelName, alias: Alias });

/** Models: list, versions, register, aliases (set, history, rollback), deployments. */
export function registerModelRoutes(app: FastifyInstance, deps: RegisterDeps): void {
  const { store } = deps;

  app.get('/v1/models', async () => ({ models: await store.models.list() }));

  app.get('/v1/models/:modelName/versions', async (request) => {
    const { modelName } = parse(ModelParams, request.params, 'path');
    return { versions: await store.models.versions(modelName) };
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
    const { version, reason } = parse(AliasBody, request.body, 'body');
    return store.models.setAlias(
      modelName,
      alias,
      version,
      reason ?? `set by ${request.principal?.subject ?? 'unknown'}`,
    );
  });

  app.post('/v1/models/:modelName/rollback', async (request) => {
    const { modelName } = parse(ModelParams, request.params, 'path');
    return store.models.rollback(modelName);
  });

  app.post('/v1/models/:modelName/deployments', async (request, reply) => {
    const { modelName } = parse(ModelParams, request.params, 'path');
    const body = parse(DeploymentBody, request.body, 'body');
    await store.models.version(modelName, body.version);
    return reply.status(201).send(await store.models.recordDeployment({ modelName, ...body }));
  });

  app.get('/v1/models/:modelName/deployments', async (request) => {
    const { modelName } = parse(ModelParams, request.params, 'path');
    return { deployments: await store.models.deployments(modelName) };
  });
}
