import { z } from 'zod';
import { MODEL_NAME_PATTERN } from '../../shared/contracts/model-settings.ts';

/**
 * The CloudEvent data of `google.cloud.storage.object.v1.finalized` (StorageObjectData): only
 * the fields the trigger uses. GCS sends int64 fields such as `generation` as strings.
 */
export const StorageObjectData = z.object({
  bucket: z.string().min(1),
  name: z.string().min(1),
  generation: z.union([z.string().regex(/^\d+$/), z.number().int().nonnegative()]).transform(String),
  size: z
    .union([z.string().regex(/^\d+$/), z.number().int().nonnegative()])
    .transform(Number)
    .optional(),
  contentType: z.string().optional(),
});
export type StorageObjectData = z.infer<typeof StorageObjectData>;

export type DatasetObject = { modelName: string; fileName: string } | { ignore: string };

/**
 * Which objects are dataset drops: exactly `<model-name>/<file>.csv`, model name
 * `MODEL_NAME_PATTERN`. Everything else (droptune.json, `reports/…`, nested paths, other
 * extensions, hidden files) is ignored with the reason, so the pipeline never re-triggers on what
 * it writes itself.
 */
export function matchDatasetObject(name: string): DatasetObject {
  const parts = name.split('/');
  if (parts.length !== 2)
    return { ignore: `not <model-name>/<file>.csv (${parts.length - 1} "/" in the name)` };
  const [modelName, fileName] = parts as [string, string];
  if (!/\.csv$/i.test(fileName)) return { ignore: 'not a .csv file' };
  if (fileName.startsWith('.') || fileName.length <= 4) return { ignore: 'hidden or unnamed file' };
  if (!MODEL_NAME_PATTERN.test(modelName)) {
    return { ignore: `"${modelName}" is not a valid model name (${MODEL_NAME_PATTERN.source})` };
  }
  return { modelName, fileName };
}
