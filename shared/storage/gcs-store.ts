import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { File, Storage } from '@google-cloud/storage';
import { AppError } from '../errors.ts';
import { assertBucketName, assertObjectName, assertPrefix } from './object-name.ts';
import type { ObjectStat, ObjectStore, WriteOptions } from './object-store.ts';

/**
 * `gs://` on `@google-cloud/storage`. The client is injected (tests pass one pointed at a
 * GCS-compatible server). Create-only writes use `ifGenerationMatch: 0`, so a second write to
 * an immutable model file fails with 412, translated to `already_exists`.
 */
export class GcsObjectStore implements ObjectStore {
  readonly scheme = 'gs' as const;
  private client: Storage | undefined;

  /**
   * `storage` may be a client or a function that makes one on first use, so processes that
   * never touch `gs://` (the local stack, a `file://` prediction service) do not pay for
   * loading the GCS library at start.
   */
  constructor(private readonly storage: Storage | (() => Promise<Storage>)) {
    if (typeof storage !== 'function') this.client = storage;
  }

  private async gcs(): Promise<Storage> {
    this.client ??= await (this.storage as () => Promise<Storage>)();
    return this.client;
  }

  private async file(bucket: string, name: string): Promise<File> {
    return (await this.gcs()).bucket(assertBucketName(bucket)).file(assertObjectName(name));
  }

  async createReadStream(bucket: string, name: string): Promise<Readable> {
    await this.stat(bucket, name);
    return (await this.file(bucket, name)).createReadStream({ validation: 'crc32c' });
  }

  async read(bucket: string, name: string): Promise<Buffer> {
    try {
      const [buf] = await (await this.file(bucket, name)).download();
      return buf;
    } catch (err) {
      throw translate(err, `gs://${bucket}/${name}`);
    }
  }

  async write(
    bucket: string,
    name: string,
    body: Readable | Buffer | string,
    options: WriteOptions = {},
  ): Promise<ObjectStat> {
    const file = await this.file(bucket, name);
    const opts = {
      resumable: false,
      ...(options.contentType ? { contentType: options.contentType } : {}),
      ...(options.createOnly ? { preconditionOpts: { ifGenerationMatch: 0 } } : {}),
    };
    try {
      if (typeof body === 'string' || Buffer.isBuffer(body)) await file.save(Buffer.from(body), opts);
      else await pipeline(body, file.createWriteStream(opts));
    } catch (err) {
      throw translate(err, `gs://${bucket}/${name}`);
    }
    return this.stat(bucket, name);
  }

  async stat(bucket: string, name: string): Promise<ObjectStat> {
    try {
      const [meta] = await (await this.file(bucket, name)).getMetadata();
      return {
        uri: `gs://${bucket}/${name}`,
        bucket,
        name,
        size: Number(meta.size ?? 0),
        generation: String(meta.generation ?? ''),
        ...(meta.md5Hash ? { md5: meta.md5Hash } : {}),
        ...(meta.crc32c ? { crc32c: meta.crc32c } : {}),
        updated: new Date(meta.updated ?? 0),
        ...(meta.contentType ? { contentType: meta.contentType } : {}),
      };
    } catch (err) {
      throw translate(err, `gs://${bucket}/${name}`);
    }
  }

  async statIfExists(bucket: string, name: string): Promise<ObjectStat | undefined> {
    try {
      return await this.stat(bucket, name);
    } catch (err) {
      if (err instanceof AppError && err.code === 'not_found') return undefined;
      throw err;
    }
  }

  async list(bucket: string, prefix: string): Promise<ObjectStat[]> {
    assertPrefix(prefix);
    try {
      const [files] = await (await this.gcs())
        .bucket(assertBucketName(bucket))
        .getFiles({ prefix, autoPaginate: true });
      return files
        .map((f) => ({
          uri: `gs://${bucket}/${f.name}`,
          bucket,
          name: f.name,
          size: Number(f.metadata.size ?? 0),
          generation: String(f.metadata.generation ?? ''),
          updated: new Date(f.metadata.updated ?? 0),
        }))
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    } catch (err) {
      throw translate(err, `gs://${bucket}/${prefix}`);
    }
  }

  async copy(
    src: { bucket: string; name: string },
    dst: { bucket: string; name: string },
    options: WriteOptions = {},
  ): Promise<ObjectStat> {
    try {
      await (await this.file(src.bucket, src.name)).copy(await this.file(dst.bucket, dst.name), {
        ...(options.createOnly ? { preconditionOpts: { ifGenerationMatch: 0 } } : {}),
      });
    } catch (err) {
      throw translate(err, `gs://${dst.bucket}/${dst.name}`);
    }
    return this.stat(dst.bucket, dst.name);
  }

  async delete(bucket: string, name: string): Promise<void> {
    try {
      await (await this.file(bucket, name)).delete();
    } catch (err) {
      throw translate(err, `gs://${bucket}/${name}`);
    }
  }
}

/** GCS API errors → AppError codes. */
function translate(err: unknown, uri: string): unknown {
  if (err instanceof AppError) return err;
  const code = Number((err as { code?: unknown }).code);
  if (code === 404)
    return new AppError('not_found', `${uri} does not exist`, { details: { uri }, cause: err });
  if (code === 412)
    return new AppError('already_exists', `${uri} already exists and is immutable`, {
      details: { uri },
      cause: err,
    });
  if (code === 403 || code === 401)
    return new AppError('permission_denied', `no permission for ${uri}`, { cause: err });
  if (code === 429) return new AppError('resource_exhausted', `rate limited on ${uri}`, { cause: err });
  if (code >= 500 && code < 600)
    return new AppError('unavailable', `storage unavailable for ${uri} (${code})`, { cause: err });
  const sys = (err as { code?: unknown }).code;
  if (typeof sys === 'string' && ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EAI_AGAIN'].includes(sys)) {
    return new AppError('unavailable', `storage unreachable for ${uri} (${sys})`, { cause: err });
  }
  return err;
}
