/**
 * Exact min/median/max of text lengths in memory bounded by the length limit, not the row count:
 * one counter per possible length (lengths are capped by `maxTextChars`, so the array is at most
 * that long, ~400 KB for the default 100,000).
 */
export class LengthHistogram {
  private readonly counts: Uint32Array;
  private n = 0;
  private min = Number.POSITIVE_INFINITY;
  private max = 0;

  constructor(maxLength: number) {
    this.counts = new Uint32Array(maxLength + 1);
  }

  add(length: number): void {
    this.counts[length]!++;
    this.n++;
    if (length < this.min) this.min = length;
    if (length > this.max) this.max = length;
  }

  /** `{min, median, max}` (median of an even count: the mean of the two middle lengths); zeros when empty. */
  summary(): { min: number; median: number; max: number } {
    if (this.n === 0) return { min: 0, median: 0, max: 0 };
    return {
      min: this.min,
      median: (this.nth(Math.floor((this.n - 1) / 2)) + this.nth(Math.floor(this.n / 2))) / 2,
      max: this.max,
    };
  }

  /** The k-th smallest length (0-based). */
  private nth(k: number): number {
    let seen = 0;
    for (let len = this.min; len <= this.max; len++) {
      seen += this.counts[len]!;
      if (seen > k) return len;
    }
    return this.max;
  }
}
