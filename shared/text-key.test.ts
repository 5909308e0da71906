import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { normaliseText, TEXT_KEY_VERSION, textBucket, textKey } from './text-key.ts';

interface Vectors {
  version: string;
  salt: string;
  cases: { text: string; normalised: string; key: string; bucket: number }[];
}

const vectors = JSON.parse(
  readFileSync(new URL('./text-key.vectors.json', import.meta.url), 'utf8'),
) as Vectors;

describe('text key (golden vectors shared with the trainer)', () => {
  it('is the version the vectors were written for', () => {
    expect(vectors.version).toBe(TEXT_KEY_VERSION);
    expect(vectors.cases.length).toBeGreaterThan(10);
  });

  it.each(vectors.cases.map((c) => [JSON.stringify(c.text), c] as const))(
    'normalises and hashes %s as Python does',
    (_, c) => {
      expect(normaliseText(c.text)).toBe(c.normalised);
      expect(textKey(c.text, vectors.salt)).toBe(c.key);
      expect(textBucket(c.key)).toBe(c.bucket);
    },
  );

  it('makes spacing and case variants one text, and the salt separates models', () => {
    expect(textKey('  Refund   ME ', 'a')).toBe(textKey('refund me', 'a'));
    expect(textKey('refund me', 'a')).not.toBe(textKey('refund me', 'b'));
  });
});
