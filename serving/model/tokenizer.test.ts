import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURE_DIR, readGolden } from '../testing/harness.ts';
import { CHARS_PER_TOKEN, encodeBounded, loadTokenizer } from './tokenizer.ts';

const golden = readGolden();
const tokenizerJson = JSON.parse(readFileSync(join(FIXTURE_DIR, 'tokenizer.json'), 'utf8'));
const tokenizer = loadTokenizer(tokenizerJson);
const maxLength = golden.maxLength;

/** Texts past the character budget, built to stress the cut: punctuation, accents, spaces, CJK. */
function longTexts(): string[] {
  const words = ['refund', 'naïve', 'order#123', 'don’t', '¿dónde?', '配送', 'emoji🙂', 'a-b', '...'];
  let seed = 7;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const texts: string[] = [];
  for (let n = 0; n < 40; n++) {
    const parts: string[] = [];
    const target = maxLength * CHARS_PER_TOKEN * (0.5 + rand() * 3);
    let len = 0;
    while (len < target) {
      const w = words[Math.floor(rand() * words.length)]!;
      const sep = rand() < 0.1 ? '\n\t ' : rand() < 0.05 ? ' '.repeat(200) : ' ';
      parts.push(w, sep);
      len += w.length + sep.length;
    }
    texts.push(parts.join(''));
  }
  texts.push('x'.repeat(maxLength * CHARS_PER_TOKEN * 2)); // no whitespace at all
  texts.push(`${' '.repeat(maxLength * CHARS_PER_TOKEN * 2)} a few words at the end`); // mostly spaces
  return texts;
}

describe('bounded tokenizing of long texts', () => {
  it.each(longTexts().map((t, i) => [i, t] as const))(
    'gives the same ids as tokenizing the whole text and truncating (text %i)',
    (_i, text) => {
      const whole = tokenizer.encode(text);
      const encoded = tokenizer.encodeTruncated(text, maxLength);
      expect(encoded.ids).toEqual(tokenizer.truncate(whole, maxLength));
      expect(encoded.truncated).toBe(whole.length > maxLength);
    },
  );

  it('tokenizes only a prefix of a long ordinary text', () => {
    const seen: number[] = [];
    const text = 'please refund my damaged order '.repeat(2000);
    const ids = encodeBounded(
      (t) => {
        seen.push(t.length);
        return tokenizer.encode(t);
      },
      text,
      maxLength,
    );
    expect(ids.length).toBeGreaterThan(maxLength);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toBeLessThanOrEqual(maxLength * CHARS_PER_TOKEN);
  });

  it('leaves short texts alone and says they were not cut', () => {
    expect(tokenizer.encodeTruncated('where is my parcel', maxLength)).toEqual({
      ids: tokenizer.encode('where is my parcel'),
      truncated: false,
    });
  });
});
