import { createHash } from 'node:crypto';
import type { ObjectStore } from '../../shared/storage/index.ts';

/**
 * Writes a complete trained model into `runs/<runId>/` the way the trainer does (manifest last),
 * for registration tests. `tamper` names a file whose bytes then differ from its manifest entry.
 */
export async function writeTrainedModel(
  objects: ObjectStore,
  bucket: string,
  { runId, modelName, tamper }: { runId: string; modelName: string; tamper?: string },
): Promise<void> {
  const files: Record<string, string> = {
    'model.onnx': `onnx bytes of ${runId}`,
    'tokenizer.json': '{"model":{}}',
    'labels.json': '["neg","pos"]',
    'config.json': '{"task":"text-classification"}',
    'metrics.json': '{"accuracy":0.9}',
  };
  for (const [path, text] of Object.entries(files))
    await objects.write(bucket, `runs/${runId}/${path}`, path === tamper ? `${text}!` : text);
  const manifest = {
    schemaVersion: 1,
    runId,
    modelName,
    createdAt: new Date().toISOString(),
    trainerVersion: '0.1.0',
    baseModel: 'tiny-bert',
    task: 'text-classification',
    dataset: { datasetUri: 'file://datasets/x/y.csv', generation: '1', sha256: 'a'.repeat(64) },
    files: Object.entries(files).map(([path, text]) => ({
      path,
      size: Buffer.byteLength(text),
      sha256: createHash('sha256').update(text).digest('hex'),
    })),
    packages: { torch: '2.0' },
    metrics: { accuracy: 0.9 },
  };
  await objects.write(bucket, `runs/${runId}/manifest.json`, JSON.stringify(manifest));
}
