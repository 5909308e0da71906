/**
 * Texts that cannot fit `maxLength` tokens. The validator has no tokenizer, so it counts words
 * (runs of non-whitespace): every word is at least one token, plus the special tokens ([CLS] and
 * [SEP]; a pair adds one more [SEP]), so the count is a lower bound of the texts the model will
 * truncate (or chunk, with `longText: "chunk"`).
 */
export class LongTexts {
  private count = 0;

  constructor(
    private readonly maxLength: number,
    /** droptune.json `longText`: with `chunk` long texts are read whole, so no hint is needed. */
    private readonly mode: 'truncate' | 'chunk' = 'truncate',
  ) {}

  add(text: string, textChars: number, pair: string | undefined): void {
    const specials = pair === undefined ? 2 : 3;
    const chars = textChars + (pair?.length ?? 0);
    // A word takes a character and a separator: fewer characters cannot make too many words.
    if ((chars + 2) / 2 + specials <= this.maxLength) return;
    const tokens = words(text) + (pair === undefined ? 0 : words(pair)) + specials;
    if (tokens > this.maxLength) this.count++;
  }

  summary(): { maxLength: number; count: number; method: 'words' } {
    return { maxLength: this.maxLength, count: this.count, method: 'words' };
  }

  /** A hint when some texts will be cut: `longText: "chunk"` reads them whole. */
  warnings(): string[] {
    if (this.count === 0 || this.mode === 'chunk') return [];
    return [
      `at least ${this.count} text${this.count === 1 ? ' is' : 's are'} longer than maxLength ${this.maxLength} tokens (counted in words, a lower bound); ` +
        'by default only the first tokens are read. Set "longText": "chunk" in droptune.json to read them whole in overlapping windows.',
    ];
  }
}

/** Runs of non-whitespace characters. */
export function words(text: string): number {
  let n = 0;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const space = c === 32 || (c >= 9 && c <= 13) || c === 0xa0 || c === 0x3000;
    if (!space && !inWord) n++;
    inWord = !space;
  }
  return n;
}
