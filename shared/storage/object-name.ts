import { AppError } from '../errors.ts';

/**
 * Object names are `/`-separated keys inside a bucket. Path traversal is the classic registry
 * hole (MLflow CVE-2023-1177 and friends), so every adapter validates names here before use:
 * no `..` or `.` segments, no absolute names, no NUL, no empty segments, no backslashes.
 */
export function assertObjectName(name: string): string {
  const reject = (why: string): never => {
    throw new AppError('invalid_argument', `invalid object name ${JSON.stringify(name)}: ${why}`, {
      details: { objectName: name },
    });
  };
  if (name.length === 0) reject('it is empty');
  if (name.length > 1024) reject('it is longer than 1024 bytes');
  if (name.includes('\0')) reject('it contains a NUL byte');
  if (name.includes('\\')) reject('it contains a backslash');
  if (name.startsWith('/')) reject('it is absolute (starts with "/")');
  for (const segment of name.split('/')) {
    if (segment === '') reject('it has an empty path segment ("//" or a trailing "/")');
    if (segment === '..' || segment === '.') reject(`it has a "${segment}" path segment`);
  }
  return name;
}

/** A prefix for listing: empty, or a valid name optionally ending in `/`. */
export function assertPrefix(prefix: string): string {
  if (prefix === '') return prefix;
  assertObjectName(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix);
  return prefix;
}

/** GCS bucket naming rules (the local twin uses the same so names travel unchanged). */
const BUCKET_RE = /^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/;

export function assertBucketName(bucket: string): string {
  if (!BUCKET_RE.test(bucket) || bucket.includes('..')) {
    throw new AppError(
      'invalid_argument',
      `invalid bucket name ${JSON.stringify(bucket)}: use 3-63 lowercase letters, digits, "-", "_" or "."`,
      { details: { bucket } },
    );
  }
  return bucket;
}
