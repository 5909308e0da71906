import type { Storage } from '@google-cloud/storage';
import { FileObjectStore } from './file-store.ts';
import { GcsObjectStore } from './gcs-store.ts';
import { bucketsDir } from './local-buckets.ts';
import type { ObjectStore } from './object-store.ts';
import { type ObjectUri, parseObjectUri, type Scheme } from './uri.ts';

export { FileObjectStore } from './file-store.ts';
export { GcsObjectStore } from './gcs-store.ts';
export { bucketsDir, localObjectPath, localObjectStore } from './local-buckets.ts';
export { assertBucketName, assertObjectName } from './object-name.ts';
export type { ObjectStat, ObjectStore, WriteOptions } from './object-store.ts';
export {
  formatObjectUri,
  joinUri,
  KNOWN_SCHEMES,
  type ObjectUri,
  parseObjectUri,
  type Scheme,
} from './uri.ts';

export interface StoreOptions {
  /** `$DROPTUNE_HOME`; `file://` buckets live in `<home>/buckets/`. Defaults to env or `.droptune`. */
  home?: string;
  /** Injected GCS client (tests point one at a GCS-compatible server). */
  gcs?: Storage;
}

const cache = new Map<string, ObjectStore>();

/**
 * The adapter registry: picks the ObjectStore for a URI's scheme (`gs://`, `file://`).
 * Adapters are cached per scheme and home so every caller shares one GCS client.
 */
export function storeFor(scheme: Scheme, options: StoreOptions = {}): ObjectStore {
  if (scheme === 'gs') {
    if (options.gcs) return new GcsObjectStore(options.gcs);
    const key = 'gs';
    const s =
      cache.get(key) ?? new GcsObjectStore(async () => new (await import('@google-cloud/storage')).Storage());
    cache.set(key, s);
    return s;
  }
  const home = options.home ?? process.env.DROPTUNE_HOME ?? '.droptune';
  const key = `file:${home}`;
  const s = cache.get(key) ?? new FileObjectStore(bucketsDir(home));
  cache.set(key, s);
  return s;
}

/** Parses a URI and returns its adapter with the bucket and object name. */
export function openStore(uri: string, options: StoreOptions = {}): ObjectUri & { store: ObjectStore } {
  const parsed = parseObjectUri(uri);
  return { ...parsed, store: storeFor(parsed.scheme, options) };
}
