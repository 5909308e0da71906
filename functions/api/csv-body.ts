import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';

/**
 * Makes `scope` (a route's own plugin scope) take CSV bytes as a stream: the handler pipes
 * `request.body` somewhere and the body is never held in memory, whatever its size. Other scopes
 * keep only the JSON parser, so a CSV (or text/plain) body elsewhere is a 415 answered unread.
 * Under the functions-framework the body was already read (Express), so it is replayed from there.
 */
export function acceptCsvStream(scope: FastifyInstance): void {
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser(['text/csv', 'application/octet-stream'], (_req, payload, done) => {
    const pre = payload as IncomingMessage & { rawBody?: Buffer };
    done(null, pre.rawBody !== undefined ? Readable.from([pre.rawBody]) : payload);
  });
}
