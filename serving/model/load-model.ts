import { Labels, type Manifest, ModelConfig } from '../../shared/contracts/manifest.ts';
import { AppError } from '../../shared/errors.ts';
import { type FetchedVersion, fetchVersion, type VersionLocation } from './fetch-version.ts';
import { type ClassifierSession, createClassifierSession } from './onnx-session.ts';
import { createWorkerClassifierSession } from './session-worker.ts';
import { loadTokenizer, type TextTokenizer } from './tokenizer.ts';

/** A verified, loaded model version: everything a prediction needs. */
export interface ServedModel {
  modelName: string;
  /** `N` of `…/v<N>/`; null when served from elsewhere (a run prefix in the local stack). */
  version: number | null;
  modelUri: string;
  /** The ONNX file actually served. */
  modelFile: 'model.onnx' | 'model.int8.onnx';
  labels: string[];
  config: ModelConfig;
  metrics: unknown;
  manifest: Manifest;
  tokenizer: TextTokenizer;
  session: ClassifierSession;
}

export interface LoadOptions {
  /** `int8` serves model.int8.onnx when the manifest lists it. */
  variant: 'fp32' | 'int8';
  threads: number;
  /** `main` (the default) runs onnxruntime on the calling thread; `worker` in a worker thread. */
  inferenceThread?: 'worker' | 'main';
  /** Told when int8 was asked for but the version has none. */
  warn?(message: string, fields?: Record<string, unknown>): void;
}

const SMALL_FILES = ['tokenizer.json', 'labels.json', 'config.json', 'metrics.json'] as const;

/**
 * Fetches and verifies the version at `loc` (see `fetchVersion`), then builds tokenizer, labels,
 * config and the onnxruntime session. Every failure is an `AppError` naming the file at fault.
 */
export async function loadModel(loc: VersionLocation, options: LoadOptions): Promise<ServedModel> {
  const { modelNameInUri, version } = parseVersionPrefix(loc.prefix);
  let modelFile: ServedModel['modelFile'] = 'model.onnx';
  const fetched = await fetchVersion(loc, (manifest) => {
    const listed = new Set(manifest.files.map((f) => f.path));
    for (const required of ['model.onnx', ...SMALL_FILES]) {
      if (!listed.has(required))
        throw new AppError('failed_precondition', `${required} is not listed in manifest.json of ${loc.uri}`);
    }
    if (options.variant === 'int8') {
      if (listed.has('model.int8.onnx')) modelFile = 'model.int8.onnx';
      else
        options.warn?.('MODEL_VARIANT=int8 but the version has no model.int8.onnx; serving model.onnx', {
          modelUri: loc.uri,
        });
    }
    return new Set([...SMALL_FILES, modelFile]);
  });
  const manifest = fetched.manifest;
  if (modelNameInUri && modelNameInUri !== manifest.modelName) {
    throw new AppError(
      'failed_precondition',
      `manifest.json names model "${manifest.modelName}" but ${loc.uri} is under models/${modelNameInUri}/`,
    );
  }
  const config = parseJsonFile(fetched, 'config.json', (j) => ModelConfig.safeParse(j));
  const labels = parseJsonFile(fetched, 'labels.json', (j) => Labels.safeParse(j));
  const metrics = parseJsonFile(fetched, 'metrics.json', (j) => ({ success: true as const, data: j }));
  const tokenizer = loadTokenizer(
    parseJsonFile(fetched, 'tokenizer.json', (j) => ({ success: true as const, data: j })),
  );
  const create =
    options.inferenceThread === 'worker' ? createWorkerClassifierSession : createClassifierSession;
  const session = await create(fetched.files.get(modelFile)!, {
    threads: options.threads,
    inputNames: config.inputNames,
    outputName: config.outputName,
  });
  return {
    modelName: manifest.modelName,
    version,
    modelUri: loc.uri,
    modelFile,
    labels,
    config,
    metrics,
    manifest,
    tokenizer,
    session,
  };
}

/** `models/<model>/v<N>/` → model name and N; anything else → nulls (served, but unversioned). */
export function parseVersionPrefix(prefix: string): {
  modelNameInUri: string | null;
  version: number | null;
} {
  const m = /(?:^|\/)models\/([^/]+)\/v(\d+)\/?$/.exec(prefix);
  if (m) return { modelNameInUri: m[1]!, version: Number(m[2]) };
  const v = /(?:^|\/)v(\d+)\/?$/.exec(prefix);
  return { modelNameInUri: null, version: v ? Number(v[1]) : null };
}

type SafeParse<T> =
  | { success: true; data: T }
  | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } };

function parseJsonFile<T>(fetched: FetchedVersion, path: string, check: (json: unknown) => SafeParse<T>): T {
  const bytes = fetched.files.get(path)!;
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new AppError('failed_precondition', `${path} is not valid JSON`);
  }
  const parsed = check(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new AppError(
      'failed_precondition',
      `${path}: ${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`,
    );
  }
  return parsed.data;
}
