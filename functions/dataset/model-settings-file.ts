import { describeZodError, ModelSettings } from '../../shared/contracts/model-settings.ts';
import type { ObjectStore } from '../../shared/storage/index.ts';
import type { DatasetRejection } from './rejection.ts';

/**
 * Reads `<model-name>/droptune.json` from the datasets bucket. Missing → defaults. Invalid JSON,
 * an unknown key or an out-of-range value → a rejection naming the field (permanent). Storage
 * errors are thrown (transient: the event is redelivered).
 */
export async function readModelSettings(
  objects: ObjectStore,
  bucket: string,
  modelName: string,
  /** Deployment-wide defaults under the file's values (the local stack: the packaged base model). */
  defaults: { baseModel?: string } = {},
): Promise<{ settings: ModelSettings } | { rejection: DatasetRejection }> {
  const name = `${modelName}/droptune.json`;
  const stat = await objects.statIfExists(bucket, name);
  if (!stat) return { settings: ModelSettings.parse({ ...defaults }) };
  const text = (await objects.read(bucket, name)).toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return {
      rejection: {
        code: 'invalid_settings',
        message: `${name} is not valid JSON (${(err as Error).message}). Fix it or delete it to use the defaults.`,
        details: { object: name },
      },
    };
  }
  const parsed = ModelSettings.safeParse(
    json !== null && typeof json === 'object' && !Array.isArray(json) ? { ...defaults, ...json } : json,
  );
  if (parsed.success) return { settings: parsed.data };
  return {
    rejection: {
      code: 'invalid_settings',
      message: `${name}: ${describeZodError(parsed.error)}. Fix these settings (see docs/control-api.md, "droptune.json") or delete the file to use the defaults.`,
      details: {
        object: name,
        issues: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
      },
    },
  };
}
