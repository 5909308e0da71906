import { createHash, randomBytes } from 'node:crypto';
import { Manifest, REQUIRED_MODEL_FILES } from '../../shared/contracts/manifest.ts';
import { describeZodError } from '../../shared/contracts/model-settings.ts';
import { AppError } from '../../shared/errors.ts';
import type { ObjectStore } from '../../shared/storage/index.ts';
import type { ModelVersion, TrackingStore } from '../../shared/store/index.ts';

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
 * 3. inside the store's version allocation, the files are copied server-side, create-only, to a
 *    prefix no earlier attempt used (`versionPrefix`), the manifest last, and N is spent only if
 *    all copies succeed (so versions are gap-free and a version with a manifest is complete).
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
  return deps.store.models.registerVersion(modelName, runId, async (version) => {
    const target = await versionPrefix(deps, modelName, version);
    const createOnly = { createOnly: true };
    for (const file of manifest.files) {
      await deps.objects.copy(
        { bucket: deps.modelsBucket, name: prefix + file.path },
        { bucket: deps.modelsBucket, name: target + file.path },
        createOnly,
      );
    }
    await deps.objects.copy(
      { bucket: deps.modelsBucket, name: `${prefix}manifest.json` },
      { bucket: deps.modelsBucket, name: `${target}manifest.json` },
      createOnly,
    );
    return { modelUri: `${deps.objects.scheme}://${deps.modelsBucket}/${target}`, metrics: manifest.metrics };
  });
}

/**
 * Where version N's files go: `models/<modelName>/v<N>/` when nothing is there, else (leftovers
 * of an attempt that failed for this same N, which this identity may not delete) a fresh sibling
 * `models/<modelName>/v<N>-<attempt>/`. The version row records the prefix actually used, so
 * every reader follows `modelUri`, never a prefix rebuilt from N. Attempts for one model are
 * serialized by the store's version allocation; the create-only copies make even a racing
 * attempt fail rather than mix files.
 */
async function versionPrefix(deps: RegisterDeps, modelName: string, version: number): Promise<string> {
  const clean = `models/${modelName}/v${version}/`;
  const leftovers = await deps.objects.list(deps.modelsBucket, clean);
  if (leftovers.length === 0) return clean;
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
