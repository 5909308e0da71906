import { AppError } from '../errors.ts';
import { assertBucketName, assertObjectName } from './object-name.ts';

export const KNOWN_SCHEMES = ['gs', 'file'] as const;
export type Scheme = (typeof KNOWN_SCHEMES)[number];

export interface ObjectUri {
  scheme: Scheme;
  bucket: string;
  /** Object name or prefix; `''` for the bucket itself. */
  name: string;
}

/**
 * Parses `gs://bucket/name` or `file://bucket/name` (a local bucket under
 * `$DROPTUNE_HOME/buckets/`). A trailing `/` is kept on prefixes (`…/v3/`).
 * An unknown scheme fails with the list of known ones.
 */
export function parseObjectUri(uri: string): ObjectUri {
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/([^/]*)(?:\/(.*))?$/.exec(uri);
  if (!m) {
    throw new AppError(
      'invalid_argument',
      `not an object URI: ${JSON.stringify(uri)} (expected gs://bucket/name or file://bucket/name)`,
    );
  }
  const scheme = m[1]!.toLowerCase();
  if (!(KNOWN_SCHEMES as readonly string[]).includes(scheme)) {
    throw new AppError(
      'invalid_argument',
      `unknown storage scheme "${scheme}://" in ${JSON.stringify(uri)}; known schemes: ${KNOWN_SCHEMES.map((s) => `${s}://`).join(', ')}`,
    );
  }
  const bucket = assertBucketName(m[2]!);
  const name = m[3] ?? '';
  if (name !== '') assertObjectName(name.endsWith('/') ? name.slice(0, -1) : name);
  return { scheme: scheme as Scheme, bucket, name };
}

export function formatObjectUri(scheme: Scheme, bucket: string, name: string): string {
  return `${scheme}://${bucket}/${name}`;
}

/** Joins a prefix URI (`…/runs/r1/`) and a relative path (`model.onnx`). */
export function joinUri(prefixUri: string, relative: string): string {
  return prefixUri.endsWith('/') ? prefixUri + relative : `${prefixUri}/${relative}`;
}
