import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { link, mkdir, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AppError } from '../errors.ts';
import { assertBucketName, assertObjectName, assertPrefix } from './object-name.ts';
import type { ObjectStat, ObjectStore, WriteOptions } from './object-store.ts';

/**
 * The local twin of GCS: bucket `b` is the directory `<root>/b/`, object `x/y` the file
 * `<root>/b/x/y`. Writes go to `<root>/.tmp/` first and are then renamed into place (or, for
 * create-only writes, hard-linked, which fails atomically when the name exists), so readers
 * and the bucket watcher never see a partial object. Bucket names cannot start with `.`,
 * so `.tmp` never collides with a bucket.
 */
export class FileObjectStore implements ObjectStore {
  readonly scheme = 'file' as const;

  constructor(private readonly root: string) {}

  /** Absolute path of an object; validates both names first. */
  pathOf(bucket: string, name: string): string {
    return join(this.root, assertBucketName(bucket), ...assertObjectName(name).split('/'));
  }

  async createReadStream(bucket: string, name: string): Promise<Readable> {
    await this.stat(bucket, name);
    return createReadStream(this.pathOf(bucket, name));
  }

  async read(bucket: string, name: string): Promise<Buffer> {
    try {
      return await readFile(this.pathOf(bucket, name));
    } catch (err) {
      throw translate(err, `file://${bucket}/${name}`);
    }
  }

  async write(
    bucket: string,
    name: string,
    body: Readable | Buffer | string,
    options: WriteOptions = {},
  ): Promise<ObjectStat> {
    const target = this.pathOf(bucket, name);
    const tmpDir = join(this.root, '.tmp');
    await mkdir(tmpDir, { recursive: true });
    const tmp = join(tmpDir, randomUUID());
    try {
      const source =
        typeof body === 'string' || Buffer.isBuffer(body) ? Readable.from([Buffer.from(body)]) : body;
      await pipeline(source, createWriteStream(tmp, { flags: 'wx' }));
      await mkdir(dirname(target), { recursive: true });
      if (options.createOnly) {
        try {
          await link(tmp, target);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
            throw new AppError('already_exists', `file://${bucket}/${name} already exists and is immutable`, {
              details: { uri: `file://${bucket}/${name}` },
            });
          }
          throw err;
        }
        await unlink(tmp);
      } else {
        await rename(tmp, target);
      }
    } catch (err) {
      await unlink(tmp).catch(() => {});
      throw translate(err, `file://${bucket}/${name}`);
    }
    return this.stat(bucket, name);
  }

  async stat(bucket: string, name: string): Promise<ObjectStat> {
    const found = await this.statIfExists(bucket, name);
    if (!found)
      throw new AppError('not_found', `file://${bucket}/${name} does not exist`, {
        details: { uri: `file://${bucket}/${name}` },
      });
    return found;
  }

  async statIfExists(bucket: string, name: string): Promise<ObjectStat | undefined> {
    try {
      const s = await stat(this.pathOf(bucket, name), { bigint: true });
      if (!s.isFile()) return undefined;
      return {
        uri: `file://${bucket}/${name}`,
        bucket,
        name,
        size: Number(s.size),
        generation: `${s.mtimeNs}${s.ino}`,
        updated: new Date(Number(s.mtimeMs)),
      };
    } catch (err) {
      if (
        (err as NodeJS.ErrnoException).code === 'ENOENT' ||
        (err as NodeJS.ErrnoException).code === 'ENOTDIR'
      )
        return undefined;
      throw translate(err, `file://${bucket}/${name}`);
    }
  }

  async list(bucket: string, prefix: string): Promise<ObjectStat[]> {
    assertPrefix(prefix);
    const bucketDir = join(this.root, assertBucketName(bucket));
    // Walk only the deepest directory the prefix names, then filter by the full prefix.
    const dirPart = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
    const start = dirPart ? join(bucketDir, ...dirPart.split('/')) : bucketDir;
    let entries: string[];
    try {
      entries = (await readdir(start, { recursive: true, withFileTypes: true }))
        .filter((e) => e.isFile())
        .map((e) => relative(bucketDir, join(e.parentPath, e.name)).split(sep).join('/'));
    } catch (err) {
      if (
        (err as NodeJS.ErrnoException).code === 'ENOENT' ||
        (err as NodeJS.ErrnoException).code === 'ENOTDIR'
      )
        return [];
      throw translate(err, `file://${bucket}/${prefix}`);
    }
    const names = entries.filter((n) => n.startsWith(prefix)).sort();
    const stats = await Promise.all(names.map((n) => this.statIfExists(bucket, n)));
    return stats.filter((s): s is ObjectStat => s !== undefined);
  }

  async copy(
    src: { bucket: string; name: string },
    dst: { bucket: string; name: string },
    options: WriteOptions = {},
  ): Promise<ObjectStat> {
    return this.write(dst.bucket, dst.name, await this.createReadStream(src.bucket, src.name), options);
  }

  async delete(bucket: string, name: string): Promise<void> {
    try {
      await unlink(this.pathOf(bucket, name));
    } catch (err) {
      throw translate(err, `file://${bucket}/${name}`);
    }
  }
}

function translate(err: unknown, uri: string): unknown {
  if (err instanceof AppError) return err;
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT')
    return new AppError('not_found', `${uri} does not exist`, { details: { uri }, cause: err });
  if (code === 'EACCES' || code === 'EPERM')
    return new AppError('permission_denied', `no permission for ${uri}`, { cause: err });
  if (code === 'ENOSPC')
    return new AppError('resource_exhausted', `disk full writing ${uri}`, { cause: err });
  return err;
}
