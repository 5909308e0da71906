import { isAppError } from '../../shared/errors.ts';
import type { ObjectStore } from '../../shared/storage/object-store.ts';
import { wfError } from '../runtime/errors.ts';
import type { BuiltinFn } from '../runtime/expr/compile.ts';
import { fromJs, type WfValue } from '../runtime/values.ts';
import { googleHttpError } from './gcp-errors.ts';

/**
 * `googleapis.storage.v1.objects.get` bound to an ObjectStore (the `file://` buckets locally).
 * Without `alt` it answers the object's metadata; with `alt: media` its content (JSON parsed),
 * as the cloud connector does. A missing object is HttpError 404.
 */
export function storageBindings(store: ObjectStore): Record<string, BuiltinFn> {
  return {
    'googleapis.storage.v1.objects.get': {
      params: ['bucket', 'object', 'alt', 'generation', 'ifGenerationMatch', 'projection', 'userProject'],
      min: 2,
      blocking: true,
      fn: async ([bucket, object, alt]) => {
        if (typeof bucket !== 'string' || typeof object !== 'string')
          throw wfError('TypeError', 'objects.get: bucket and object must be strings');
        const name = decodeURIComponent(object);
        try {
          if (alt === 'media') {
            const buf = await store.read(bucket, name);
            try {
              return fromJs(JSON.parse(buf.toString('utf8')));
            } catch {
              return buf.toString('utf8') as WfValue;
            }
          }
          const s = await store.stat(bucket, name);
          return fromJs({
            kind: 'storage#object',
            bucket,
            name,
            size: String(s.size),
            generation: s.generation,
            updated: s.updated.toISOString(),
            md5Hash: s.md5,
            crc32c: s.crc32c,
            contentType: s.contentType,
          });
        } catch (err) {
          if (isAppError(err, 'not_found') || isAppError(err, 'invalid_argument')) {
            throw googleHttpError(404, `No such object: ${bucket}/${name}`, 'notFound');
          }
          throw err;
        }
      },
    },
  };
}
