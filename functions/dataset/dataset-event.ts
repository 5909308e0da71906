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

export type DatasetObject =
  | { modelName: string; fileName: string }
  | { ignore: string }
  /** A drop into a model's folder whose file name is unsafe: recorded as a rejected run. */
  | { modelName: string; fileName: string; unsafe: string };

/**
 * Characters a dataset file name may not hold. `%` (a reader that URL-decodes would open a
 * different object: `%2e%2e%2f`), `#` and `?` (a URI parser cuts the name there: `data#.csv`
 * becomes `data`), control characters and Unicode line separators (they forge log lines), and
 * the other characters Cloud Storage's naming guidelines say to avoid (`[ ] *`, and `\`, a path
 * separator on some systems). Everything else printable stays allowed.
 */
const UNSAFE_PUNCTUATION = new Set(['%', '#', '?', '[', ']', '*', '\\']);
/** C0 and C1 controls, DEL, the Unicode line and paragraph separators and the BOM. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds
const CONTROL_CHAR = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\ufeff]/u;

/** Why `fileName` is unsafe as a dataset name (the first bad character and where), or undefined. */
export function unsafeFileName(fileName: string): string | undefined {
  const chars = [...fileName];
  const index = chars.findIndex((c) => UNSAFE_PUNCTUATION.has(c) || CONTROL_CHAR.test(c));
  if (index < 0) return undefined;
  const char = chars[index]!;
  const shown = CONTROL_CHAR.test(char)
    ? `control character U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`
    : `"${char}"`;
  return `the file name ${escapeForMessage(fileName)} has ${shown} at character ${index + 1}: dataset file names may not contain %, #, ?, [, ], *, \\ or control characters. Rename the file (letters, digits, ".", "_" and "-" are always safe) and upload it again.`;
}

/** A name as it may appear in a message: JSON-escaped (no raw control characters), at most 120 characters. */
export function escapeForMessage(name: string): string {
  const cut = name.length > 120 ? `${name.slice(0, 120)}…` : name;
  return JSON.stringify(cut).replace(
    /[\u007f-\u009f\u2028\u2029\ufeff]/gu,
    (c) => `\\u${c.codePointAt(0)!.toString(16).padStart(4, '0')}`,
  );
}

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
    return {
      ignore: `${escapeForMessage(modelName)} is not a valid model name (${MODEL_NAME_PATTERN.source})`,
    };
  }
  // A NUL cannot be stored in a PostgreSQL text column, so there is no run to record it on.
  if (fileName.includes('\u0000')) return { ignore: 'the file name contains a NUL character' };
  const unsafe = unsafeFileName(fileName);
  return unsafe ? { modelName, fileName, unsafe } : { modelName, fileName };
}
