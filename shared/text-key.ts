import { createHash } from 'node:crypto';

/**
 * The one definition of "the same text", shared with the trainer
 * (training-image/droptune_trainer/text_key.py): both are checked against the golden vectors in
 * `shared/text-key.vectors.json`, so a label conflict the validator reports before any VM is
 * exactly the conflict the trainer would see.
 *
 * Normalisation `v1`: NFC; case folding as `lower(upper(s))` with final sigma folded to σ (the
 * part of full case folding JavaScript and Python compute identically); NFC again; every run of
 * whitespace (the explicit set below, the same in both languages) becomes one space; ends trimmed.
 */

export const TEXT_KEY_VERSION = 'v1';

const WHITESPACE_RUNS = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]+/g;

export function normaliseText(text: string): string {
  const folded = text.normalize('NFC').toUpperCase().toLowerCase().replaceAll('\u03c2', '\u03c3');
  return folded.normalize('NFC').replace(WHITESPACE_RUNS, ' ').replace(/^ | $/g, '');
}

/** Hex sha256 of `salt + "\n" + normalised text`; the salt is the model name. */
export function textKey(text: string, salt: string): string {
  return createHash('sha256')
    .update(`${salt}\n${normaliseText(text)}`, 'utf8')
    .digest('hex');
}

/** The key's first 13 hex digits (52 bits, exact in a double) as a fraction in [0, 1). */
export function textBucket(key: string): number {
  return Number.parseInt(key.slice(0, 13), 16) / 16 ** 13;
}
