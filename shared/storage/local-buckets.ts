/**
 * The one rule for where `file://` buckets live: `file://<bucket>/<object>` is the file
 * `$DROPTUNE_HOME/buckets/<bucket>/<object>` (the trainer's Python twin of this rule is
 * `LocalStore.path` in training-image/droptune_trainer/storage.py, checked by its tests).
 */
import { join, resolve } from 'node:path';
import { FileObjectStore } from './file-store.ts';
import { assertBucketName, assertObjectName } from './object-name.ts';

export function bucketsDir(home: string): string {
  return resolve(home, 'buckets');
}

/** The file behind `file://<bucket>/<object>` (a prefix ending in `/` gives its directory). */
export function localObjectPath(home: string, bucket: string, name: string): string {
  const parts = name.split('/').filter(Boolean);
  if (parts.length) assertObjectName(parts.join('/'));
  return join(bucketsDir(home), assertBucketName(bucket), ...parts);
}

/** The `file://` store of a home. */
export function localObjectStore(home: string): FileObjectStore {
  return new FileObjectStore(bucketsDir(home));
}
