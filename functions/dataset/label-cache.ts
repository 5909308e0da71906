/** FNV-1a offset basis: the scanner hashes label bytes as it copies them. */
export const FNV_SEED = 0x811c9dc5;

/**
 * Raw label bytes → trimmed label string, without decoding the same few labels millions of times.
 * Bounded: past `capacity` distinct byte strings it just decodes.
 */
export class LabelCache {
  private readonly byHash = new Map<number, { bytes: Buffer; value: string }[]>();
  private size = 0;
  constructor(private readonly capacity: number) {}

  decode(buf: Buffer, len: number, hash: number): string {
    const bucket = this.byHash.get(hash);
    if (bucket) {
      for (const entry of bucket)
        if (entry.bytes.length === len && sameBytes(entry.bytes, buf, len)) return entry.value;
    }
    const value = buf.toString('utf8', 0, len).trim();
    if (this.size < this.capacity) {
      const entry = { bytes: Buffer.from(buf.subarray(0, len)), value };
      if (bucket) bucket.push(entry);
      else this.byHash.set(hash, [entry]);
      this.size++;
    }
    return value;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array, len: number): boolean {
  for (let k = 0; k < len; k++) if (a[k] !== b[k]) return false;
  return true;
}
