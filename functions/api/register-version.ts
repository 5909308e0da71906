import { createHash, randomBytes } from 'node:crypto';
import { Manifest, REQUIRED_MODEL_FILES } from '../../shared/contracts/manifest.ts';
import { describeZodError } from '../../shared/contracts/model-settings.ts';
import { AppError } from '../../shared/errors.ts';
import type { ObjectStore } from '../../shared/storage/index.ts';
import type { Materialized, ModelVersion, TrackingStore } from '../../shared/store/index.ts';

export interface RegisterDeps {
  store: TrackingStore;
  objects: ObjectStore;
  modelsBucket: string;
}

/**
 * Registers the model a run trained as the next version of `modelName`:
 * 1. `runs/<runId>/manifest.json` must exist and parse (shared/contracts/manifest.ts), name this
 *    run and model, and list every required file;
 * 2. every listed file must exist with the manifest's size and sha256 (hashed by streaming);
 * 3. the files are copied server-side, create-only, to a prefix no earlier attempt used
 *    (`versionPrefix`), the manifest last, with no database transaction open (a slow copy must
 *    not hold a connection: the embedded database has one); then a short transaction records N,
 *    and N is spent only if all copies succeeded (versions are gap-free, a version with a
 *    manifest is complete). If another registration took N meanwhile, the copy is redone for the
 *    next number (the store's `registerVersion`).
 *
 * Create-only because the control API's identity holds only `roles/storage.objectCreator` on the
 * models bucket: it can neither overwrite nor delete the leftovers of a failed attempt, so a
 * later attempt must never need to (defect: one partial failure used to block every later
 * version of the model).
 * Registering the same run again returns its existing version (`created: false`).
 */
export async function registerVersion(
  deps: RegisterDeps,
  modelName: string,
  runId: string,
): Promise<{ version: ModelVersion; created: boolean }> {
  const run = await deps.store.runs.get(runId);
  if (run.modelName !== modelName) {
    throw new AppError(
      'failed_precondition',
      `run ${runId} trained model "${run.modelName}", not "${modelName}"`,
    );
  }
  const prefix = `runs/${runId}/`;
  const manifest = await readManifest(deps, prefix, runId, modelName);
  for (const file of manifest.files) {
    const name = prefix + file.path;
    const stat = await deps.objects.statIfExists(deps.modelsBucket, name);
    if (!stat)
      throw new AppError(
        'failed_precondition',
        `${file.path} is listed in the manifest but ${name} does not exist`,
      );
    if (stat.size !== file.size) {
      throw new AppError(
        'failed_precondition',
        `${file.path}: the manifest says ${file.size} bytes, the object has ${stat.size}`,
      );
    }
    const sha256 = await hashObject(deps.objects, deps.modelsBucket, name);
    if (sha256 !== file.sha256) {
      throw new AppError(
        'failed_precondition',
        `${file.path}: sha256 is ${sha256}, the manifest says ${file.sha256}`,
      );
    }
  }
  return deps.store.models.registerVersion(modelName, runId, (version) =>
    copyVersion(deps, manifest, prefix, modelName, version),
  );
}

/**
 * Copies the run's files to version N's prefix, create-only, the manifest last. Runs outside any
 * database transaction (the store records N after it). Two registrations copying into the same
 * clean prefix at once cannot mix files (create-only): the one that loses goes to a fresh sibling.
 */
async function copyVersion(
  deps: RegisterDeps,
  manifest: Manifest,
  prefix: string,
  modelName: string,
  version: number,
): Promise<Materialized> {
  let target = await versionPrefix(deps, modelName, version);
  try {
    await copyFiles(deps, manifest, prefix, target);
  } catch (err) {
    if (!(err instanceof AppError && err.code === 'already_exists')) throw err;
    target = attemptPrefix(modelName, version);
    await copyFiles(deps, manifest, prefix, target);
  }
  return { modelUri: `${deps.objects.scheme}://${deps.modelsBucket}/${target}`, metrics: manifest.metrics };
}

async function copyFiles(deps: RegisterDeps, manifest: Manifest, from: string, to: string): Promise<void> {
  const createOnly = { createOnly: true };
  for (const path of [...manifest.files.map((f) => f.path), 'manifest.json']) {
    await deps.objects.copy(
      { bucket: deps.modelsBucket, name: from + path },
      { bucket: deps.modelsBucket, name: to + path },
      createOnly,
    );
  }
}

/**
 * Where version N's files go: `models/<modelName>/v<N>/` when nothing is there, else (leftovers
 * of an attempt that failed for this same N, which this identity may not delete) a fresh sibling
 * `models/<modelName>/v<N>-<attempt>/`. The version row records the prefix actually used, so
 * every reader follows `modelUri`, never a prefix rebuilt from N. Attempts for one model are
 * not serialized while they copy; the create-only copies make a racing attempt fail rather
 * than mix files, and it then copies to a fresh sibling (`copyVersion`).
 */
async function versionPrefix(deps: RegisterDeps, modelName: string, version: number): Promise<string> {
  const clean = `models/${modelName}/v${version}/`;
  const leftovers = await deps.objects.list(deps.modelsBucket, clean);
  return leftovers.length === 0 ? clean : attemptPrefix(modelName, version);
}

/** A prefix for version N that no other attempt uses. */
function attemptPrefix(modelName: string, version: number): string {
  return `models/${modelName}/v${version}-${randomBytes(6).toString('hex')}/`;
}

async function readManifest(
  deps: RegisterDeps,
  prefix: string,
  runId: string,
  modelName: string,
): Promise<Manifest> {
  const name = `${prefix}manifest.json`;
  if (!(await deps.objects.statIfExists(deps.modelsBucket, name))) {
    throw new AppError(
      'failed_precondition',
      `run ${runId} has no ${name} in the models bucket: training did not finish, so there is nothing to register`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse((await deps.objects.read(deps.modelsBucket, name)).toString('utf8'));
  } catch (err) {
    throw new AppError('failed_precondition', `${name} is not valid JSON: ${(err as Error).message}`);
  }
  const parsed = Manifest.safeParse(json);
  if (!parsed.success)
    throw new AppError('failed_precondition', `${name} is invalid: ${describeZodError(parsed.error)}`);
  const manifest = parsed.data;
  if (manifest.runId !== runId)
    throw new AppError('failed_precondition', `${name} belongs to run ${manifest.runId}, not ${runId}`);
  if (manifest.modelName !== modelName) {
    throw new AppError(
      'failed_precondition',
      `${name} is for model "${manifest.modelName}", not "${modelName}"`,
    );
  }
  const paths = new Set<string>();
  for (const file of manifest.files) {
    if (
      file.path.startsWith('/') ||
      file.path.split('/').some((p) => p === '..' || p === '.' || p === '') ||
      file.path === 'manifest.json'
    ) {
      throw new AppError(
        'failed_precondition',
        `${name}: file path ${JSON.stringify(file.path)} is not a plain relative path`,
      );
    }
    if (paths.has(file.path))
      throw new AppError('failed_precondition', `${name}: ${file.path} is listed twice`);
    paths.add(file.path);
  }
  const missing = REQUIRED_MODEL_FILES.filter((f) => !paths.has(f));
  if (missing.length)
    throw new AppError(
      'failed_precondition',
      `${name} does not list ${missing.join(', ')}: the model is incomplete`,
    );
  return manifest;
}

async function hashObject(objects: ObjectStore, bucket: string, name: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of await objects.createReadStream(bucket, name)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
