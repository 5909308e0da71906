import type { Readable } from 'node:stream';

/**
 * What every object store adapter (`gs://`, `file://`) offers. Object names are the part of
 * the URI after the bucket, always `/`-separated and validated by `assertObjectName`.
 */
export interface ObjectStat {
  /** `scheme://bucket/name` of the object. */
  uri: string;
  bucket: string;
  name: string;
  size: number;
  /** GCS generation, or on disk the file's mtime in ns as a string; changes on every rewrite. */
  generation: string;
  /** Hex sha256 when known cheaply (always on `file://` via a sidecar-free hash on demand; GCS: md5/crc32c only). */
  md5?: string;
  crc32c?: string;
  updated: Date;
  contentType?: string;
}

export interface WriteOptions {
  /** Fail with `already_exists` when the object exists (GCS `ifGenerationMatch: 0`; disk: exclusive create + rename). */
  createOnly?: boolean;
  contentType?: string;
}

export interface ObjectStore {
  readonly scheme: 'gs' | 'file';
  /** A stream of the object's bytes; `not_found` when missing. */
  createReadStream(bucket: string, name: string): Promise<Readable>;
  /** Whole object into memory: for small JSON files (manifest, labels, config) only. */
  read(bucket: string, name: string): Promise<Buffer>;
  /** Streams `body` into the object; atomic: readers never see a partial object. */
  write(
    bucket: string,
    name: string,
    body: Readable | Buffer | string,
    options?: WriteOptions,
  ): Promise<ObjectStat>;
  stat(bucket: string, name: string): Promise<ObjectStat>;
  /** Returns undefined instead of throwing `not_found`. */
  statIfExists(bucket: string, name: string): Promise<ObjectStat | undefined>;
  /** Object names under `prefix` (recursive), sorted. */
  list(bucket: string, prefix: string): Promise<ObjectStat[]>;
  /** Server-side copy within/between buckets of the same store. */
  copy(
    src: { bucket: string; name: string },
    dst: { bucket: string; name: string },
    options?: WriteOptions,
  ): Promise<ObjectStat>;
  delete(bucket: string, name: string): Promise<void>;
}
