import type { Readable } from 'node:stream';
import { AppError } from '../errors.ts';
import type { ObjectStat, ObjectStore, WriteOptions } from './object-store.ts';

/**
 * The twin of an identity that holds only `roles/storage.objectCreator` on a bucket (the control
 * API's identity on the models bucket): it may create objects but not replace or delete them —
 * overwriting an existing object needs `storage.objects.delete`, which that role lacks (Google's
 * IAM role reference for Cloud Storage). Wrap any store with it so code that would overwrite or
 * delete fails here the way it fails in the cloud (403), instead of passing on a lenient twin.
 */
export function objectCreatorOnly(inner: ObjectStore, who = 'this identity'): ObjectStore {
  const denied = (op: string, bucket: string, name: string) =>
    new AppError(
      'permission_denied',
      `${who} does not have storage.objects.delete access to ${inner.scheme}://${bucket}/${name} (${op} needs it; roles/storage.objectCreator only creates)`,
    );
  const refuseOverwrite = async (bucket: string, name: string, options: WriteOptions, op: string) => {
    if (options.createOnly) return; // the precondition makes it a pure create: allowed
    if (await inner.statIfExists(bucket, name)) throw denied(op, bucket, name);
  };
  return {
    scheme: inner.scheme,
    createReadStream: (bucket, name) => inner.createReadStream(bucket, name),
    read: (bucket, name) => inner.read(bucket, name),
    stat: (bucket, name) => inner.stat(bucket, name),
    statIfExists: (bucket, name) => inner.statIfExists(bucket, name),
    list: (bucket, prefix) => inner.list(bucket, prefix),
    async write(
      bucket: string,
      name: string,
      body: Readable | Buffer | string,
      options: WriteOptions = {},
    ): Promise<ObjectStat> {
      await refuseOverwrite(bucket, name, options, 'overwriting');
      return inner.write(bucket, name, body, options);
    },
    async copy(src, dst, options: WriteOptions = {}) {
      await refuseOverwrite(dst.bucket, dst.name, options, 'copying over an existing object');
      return inner.copy(src, dst, options);
    },
    async delete(bucket, name) {
      throw denied('delete', bucket, name);
    },
  };
}
