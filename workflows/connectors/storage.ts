import { isAppError } from '../../shared/errors.ts';
import type { ObjectStore } from '../../shared/storage/object-store.ts';
import type { BuiltinFn } from '../runtime/expr/compile.ts';
import { fromJs, type WfValue } from '../runtime/values.ts';
import { googleHttpError } from './gcp-errors.ts';
import { strictConnector } from './strict-call.ts';

/** True for `application/json` (with or without parameters such as charset). */
export const isJsonContentType = (contentType: string | undefined): boolean =>
  /^application\/json\s*(;|$)/i.test(contentType ?? '');

/**
 * `googleapis.storage.v1.objects.get` bound to an ObjectStore (the `file://` buckets locally).
 * Without `alt` it answers the object's metadata. With `alt: media` it answers what the cloud
 * connector does: a parsed map only when the object's content type is `application/json`,
 * bytes for any other type (an upload without a content type is not JSON), so the workflow must
 * decode explicitly. A missing object is HttpError 404.
 */
export function storageBindings(store: ObjectStore): Record<string, BuiltinFn> {
  return {
    'googleapis.storage.v1.objects.get': strictConnector(
      'googleapis.storage.v1.objects.get',
      async ({ bucket, object, alt }) => {
        const b = String(bucket);
        const name = decodeURIComponent(String(object));
        try {
          const s = await store.stat(b, name);
          if (alt === 'media') {
            const buf = await store.read(b, name);
            if (isJsonContentType(s.contentType)) return fromJs(JSON.parse(buf.toString('utf8')));
            return new Uint8Array(buf) as WfValue;
          }
          return fromJs({
            kind: 'storage#object',
            bucket: b,
            name,
            size: String(s.size),
            generation: s.generation,
            updated: s.updated.toISOString(),
            md5Hash: s.md5,
            crc32c: s.crc32c,
            contentType: s.contentType ?? 'application/octet-stream',
          });
        } catch (err) {
          if (isAppError(err, 'not_found') || isAppError(err, 'invalid_argument')) {
            throw googleHttpError(404, `No such object: ${b}/${name}`, 'notFound', 'NOT_FOUND');
          }
          throw err;
        }
      },
    ),
  };
}
