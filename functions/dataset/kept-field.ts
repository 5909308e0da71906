/**
 * A field of the current record the validator keeps whole (the text, a pair's second text): its
 * bytes, grown as runs arrive, and whether any byte is not blank. A record is at most
 * `maxRecordBytes`, so memory stays bounded; `reset` reuses the buffer for the next record.
 */
export class KeptField {
  private buf = Buffer.alloc(1024);
  private length = 0;
  /** Some byte above space (`"   "` is an empty text). */
  nonBlank = false;

  append(src: Buffer, from: number, stop: number): void {
    const need = this.length + (stop - from);
    if (need > this.buf.length) {
      const bigger = Buffer.alloc(Math.max(need, this.buf.length * 2));
      this.buf.copy(bigger, 0, 0, this.length);
      this.buf = bigger;
    }
    if (!this.nonBlank) {
      for (let k = from; k < stop; k++) {
        if (src[k]! > 0x20) {
          this.nonBlank = true;
          break;
        }
      }
    }
    this.length += src.copy(this.buf, this.length, from, stop);
  }

  reset(): void {
    this.length = 0;
    this.nonBlank = false;
  }

  toString(): string {
    return this.buf.toString('utf8', 0, this.length);
  }
}

/** Unicode code points in UTF-8 bytes: every byte that is not a continuation byte starts one. */
export function countCodePoints(bytes: Uint8Array, from: number, stop: number): number {
  let n = 0;
  for (let k = from; k < stop; k++) if ((bytes[k]! & 0xc0) !== 0x80) n++;
  return n;
}
