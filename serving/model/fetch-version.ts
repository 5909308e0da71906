import { createHash } from 'node:crypto';
import { Manifest, type ManifestFile } from '../../shared/contracts/manifest.ts';
import { AppError, isAppError } from '../../shared/errors.ts';
import type { ObjectStore } from '../../shared/storage/object-store.ts';

/** Where a model version lives: a prefix ending in `/` inside one bucket. */
export interface VersionLocation {
  store: ObjectStore;
  bucket: string;
  /** `models/<model>/v<N>/` (trailing slash added when missing). */
  prefix: string;
  /** For messages: the `MODEL_URI` as given. */
  uri: string;
}

export interface FetchedVersion {
  manifest: Manifest;
  /** Verified bytes of the files the server needs, by manifest path. */
  files: Map<string, Buffer>;
}

/**
 * Reads `manifest.json`, then downloads the files `needed` picks (given the manifest) and checks
 * each one's size and sha256, once, on the bytes that are then used: nothing is read twice.
 * Every other listed file (the variant not served, metrics logs) must exist with its listed
 * size, checked by a metadata read without downloading or hashing it: a version is served only
 * when it is whole, and a 90 MB model that is never loaded is not worth hashing on every cold
 * start. Any missing manifest, missing file or mismatch fails with an `AppError` whose message
 * names the file, and the caller never becomes ready.
 */
export async function fetchVersion(
  loc: VersionLocation,
  needed: (manifest: Manifest) => ReadonlySet<string>,
): Promise<FetchedVersion> {
  const prefix = loc.prefix === '' || loc.prefix.endsWith('/') ? loc.prefix : `${loc.prefix}/`;
  const manifest = await readManifest(loc, prefix);
  const wanted = needed(manifest);
  const files = new Map<string, Buffer>();
  await Promise.all(
    manifest.files.map(async (file) => {
      if (wanted.has(file.path)) files.set(file.path, await fetchVerified(loc, prefix, file));
      else await checkSize(loc, prefix, file);
    }),
  );
  return { manifest, files };
}

async function readManifest(loc: VersionLocation, prefix: string): Promise<Manifest> {
  let raw: Buffer;
  try {
    raw = await loc.store.read(loc.bucket, `${prefix}manifest.json`);
  } catch (err) {
    if (isAppError(err, 'not_found')) {
      throw new AppError(
        'failed_precondition',
        `manifest.json is missing in ${loc.uri}: the version is incomplete and is never served`,
        { cause: err },
      );
    }
    throw err;
  }
  let json: unknown;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw new AppError('failed_precondition', `manifest.json in ${loc.uri} is not valid JSON`, {
      cause: err,
    });
  }
  const parsed = Manifest.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new AppError(
      'failed_precondition',
      `manifest.json in ${loc.uri}: ${issue.path.join('.') || '(root)'}: ${issue.message}`,
    );
  }
  for (const f of parsed.data.files) {
    if (
      f.path.startsWith('/') ||
      f.path.split('/').some((seg) => seg === '..' || seg === '' || seg === '.')
    ) {
      throw new AppError(
        'failed_precondition',
        `manifest.json in ${loc.uri} lists an unsafe path ${JSON.stringify(f.path)}`,
      );
    }
  }
  return parsed.data;
}

async function fetchVerified(loc: VersionLocation, prefix: string, file: ManifestFile): Promise<Buffer> {
  const hash = createHash('sha256');
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    const stream = await loc.store.createReadStream(loc.bucket, prefix + file.path);
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > file.size) break; // larger than promised: no need to read the rest
      hash.update(chunk);
      chunks.push(chunk);
    }
  } catch (err) {
    throw missing(loc, file, err);
  }
  if (size !== file.size) {
    throw new AppError(
      'failed_precondition',
      `${file.path}: size mismatch in ${loc.uri} (manifest says ${file.size} bytes, got ${size > file.size ? `more than ${file.size}` : size})`,
    );
  }
  const sha256 = hash.digest('hex');
  if (sha256 !== file.sha256) {
    throw new AppError(
      'failed_precondition',
      `${file.path}: sha256 mismatch in ${loc.uri} (manifest ${file.sha256}, got ${sha256})`,
    );
  }
  return Buffer.concat(chunks, size);
}

/** A listed file the server does not load: it must exist with the size the manifest gives. */
async function checkSize(loc: VersionLocation, prefix: string, file: ManifestFile): Promise<void> {
  let size: number;
  try {
    size = (await loc.store.stat(loc.bucket, prefix + file.path)).size;
  } catch (err) {
    throw missing(loc, file, err);
  }
  if (size !== file.size) {
    throw new AppError(
      'failed_precondition',
      `${file.path}: size mismatch in ${loc.uri} (manifest says ${file.size} bytes, got ${size})`,
    );
  }
}

function missing(loc: VersionLocation, file: ManifestFile, err: unknown): unknown {
  if (!isAppError(err, 'not_found')) return err;
  return new AppError(
    'failed_precondition',
    `${file.path} is listed in manifest.json but missing from ${loc.uri}`,
    {
      cause: err,
    },
  );
}
