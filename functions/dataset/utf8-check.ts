import { isUtf8 } from 'node:buffer';

/**
 * Streaming UTF-8 validation with the byte offset of the first invalid sequence.
 *
 * The fast path is `buffer.isUtf8` (simdutf) on whole chunks; a sequence split across two chunks
 * is carried (at most 3 bytes) into the next one. Only when a chunk fails do we walk it byte by
 * byte to find the exact offset, so a valid file costs one vectorised pass.
 */
export class Utf8Checker {
  /** Bytes of a sequence cut off by the end of the previous chunk (at most 3). */
  private carry: Buffer = Buffer.alloc(0);
  /** File offset of the next chunk's first byte (the carry sits just before it). */
  private base = 0;

  /** Checks the next chunk. Returns -1 when valid so far, else the file offset of the first invalid sequence. */
  check(chunk: Buffer): number {
    let start = 0;
    if (this.carry.length > 0) {
      const carried = this.carry.length;
      const need = sequenceLength(this.carry[0]!) - carried;
      const head = Buffer.concat([this.carry, chunk.subarray(0, need)]);
      if (chunk.length < need) {
        const bad = firstInvalid(head, true);
        if (bad >= 0) return this.base - carried + bad;
        this.carry = head;
        this.base += chunk.length;
        return -1;
      }
      const bad = firstInvalid(head, false);
      if (bad >= 0) return this.base - carried + bad;
      this.carry = Buffer.alloc(0);
      start = need;
    }
    const split = incompleteTailStart(chunk, start);
    const body = chunk.subarray(start, split);
    if (!isUtf8(body)) return this.base + start + firstInvalid(body, false);
    this.carry = Buffer.from(chunk.subarray(split));
    this.base += chunk.length;
    return -1;
  }

  /** At the end of input: a sequence cut off by the end of the file is invalid. Its file offset, or -1. */
  finish(): number {
    return this.carry.length === 0 ? -1 : this.base - this.carry.length;
  }
}

/** Bytes in the sequence a lead byte starts (1 for an invalid lead, so it is reported where it is). */
function sequenceLength(lead: number): number {
  if (lead < 0x80) return 1;
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 1;
}

/** Start of a trailing sequence that the chunk cuts off (so it is checked with the next chunk). */
function incompleteTailStart(buf: Buffer, from: number): number {
  const end = buf.length;
  for (let i = end - 1; i >= Math.max(from, end - 3); i--) {
    const b = buf[i]!;
    if ((b & 0xc0) === 0x80) continue; // continuation: keep looking for the lead
    if (b < 0x80) return end;
    const len = sequenceLength(b);
    return i + len > end ? i : end;
  }
  return end;
}

/**
 * Index of the first invalid sequence in `buf` (-1 when none). With `allowTruncatedEnd`, a
 * sequence cut off by the end of `buf` counts as valid (more bytes may follow).
 */
export function firstInvalid(buf: Uint8Array, allowTruncatedEnd: boolean): number {
  let i = 0;
  const n = buf.length;
  while (i < n) {
    const b = buf[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    const len = sequenceLength(b);
    if (len === 1) return i;
    if (i + len > n) {
      for (let k = i + 1; k < n; k++) if (!validContinuation(b, k - i, buf[k]!)) return i;
      return allowTruncatedEnd ? -1 : i;
    }
    for (let k = 1; k < len; k++) if (!validContinuation(b, k, buf[i + k]!)) return i;
    i += len;
  }
  return -1;
}

/** Continuation byte `c` at position `k` of a sequence led by `lead`, excluding overlongs and surrogates. */
function validContinuation(lead: number, k: number, c: number): boolean {
  if ((c & 0xc0) !== 0x80) return false;
  if (k !== 1) return true;
  if (lead === 0xe0) return c >= 0xa0;
  if (lead === 0xed) return c <= 0x9f;
  if (lead === 0xf0) return c >= 0x90;
  if (lead === 0xf4) return c <= 0x8f;
  return true;
}
