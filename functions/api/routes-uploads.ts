import type { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { UploadBody, UploadFileName } from '../../shared/contracts/api.ts';
import { ModelName } from '../../shared/contracts/model-settings.ts';
import { AppError } from '../../shared/errors.ts';
import { acceptCsvStream } from './csv-body.ts';
import { parse } from './parse.ts';
import type { UploadTarget } from './uploads.ts';

const UploadParams = z.object({ modelName: ModelName, fileName: UploadFileName });

/** `POST /v1/uploads` hands out a ticket; locally `PUT /v1/uploads/:modelName/:fileName` takes the bytes. */
export function registerUploadRoutes(app: FastifyInstance, deps: { uploads: UploadTarget }): void {
  app.post('/v1/uploads', async (request, reply) => {
    const { modelName, fileName } = parse(UploadBody, request.body, 'body');
    const apiBase = `${request.protocol}://${request.host}`;
    return reply.status(201).send(await deps.uploads.ticket(modelName, fileName, apiBase));
  });

  const receive = deps.uploads.receive?.bind(deps.uploads);
  if (!receive) return;
  // Its own scope, so that only this route takes CSV bytes, and takes them as a stream: the
  // request is piped into the bucket and never held in memory (any size up to the upload limit).
  void app.register(async (scope) => {
    acceptCsvStream(scope);
    scope.put(
      '/v1/uploads/:modelName/:fileName',
      // Fastify's bodyLimit applies to buffered bodies only; the stream is limited by `receive`.
      { bodyLimit: Number.MAX_SAFE_INTEGER },
      async (request, reply) => {
        const { modelName, fileName } = parse(UploadParams, request.params, 'path');
        const body = request.body as Readable | undefined;
        if (!body || typeof body.pipe !== 'function') {
          throw new AppError('invalid_argument', 'send the CSV bytes with content-type text/csv');
        }
        const stat = await receive(modelName, fileName, body);
        return reply
          .status(201)
          .send({ datasetUri: stat.uri, generation: stat.generation, bytes: stat.size });
      },
    );
  });
}
