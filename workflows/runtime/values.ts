/**
 * Workflows values. Cloud Workflows distinguishes integers (64-bit) from doubles, so the
 * runtime keeps integers as `bigint` and doubles as `number`; everything crossing into JS
 * (HTTP bodies, connector arguments) goes through `toJs`, everything coming back through
 * `fromJs`. Maps are plain objects, lists are arrays, bytes are `Uint8Array`.
 */
export type WfValue = null | boolean | bigint | number | string | Uint8Array | WfValue[] | WfMap;
export interface WfMap {
  [key: string]: WfValue;
}

export type TypeName = 'null' | 'boolean' | 'integer' | 'double' | 'string' | 'bytes' | 'list' | 'map';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

export function typeName(v: WfValue): TypeName {
  if (v === null || v === undefined) return 'null';
  switch (typeof v) {
    case 'boolean':
      return 'boolean';
    case 'bigint':
      return 'integer';
    case 'number':
      return 'double';
    case 'string':
      return 'string';
  }
  if (Array.isArray(v)) return 'list';
  if (v instanceof Uint8Array) return 'bytes';
  return 'map';
}

export function isMap(v: WfValue): v is WfMap {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array);
}

export function inInt64(v: bigint): boolean {
  return v >= INT64_MIN && v <= INT64_MAX;
}

/** Converts JSON-ish JS data (parsed bodies, connector results) into Workflows values. */
export function fromJs(x: unknown): WfValue {
  if (x === null || x === undefined) return null;
  switch (typeof x) {
    case 'boolean':
    case 'string':
    case 'bigint':
      return x;
    case 'number':
      return Number.isSafeInteger(x) ? BigInt(x) : x;
    case 'object': {
      if (Array.isArray(x)) return x.map(fromJs);
      if (x instanceof Uint8Array) return x;
      if (x instanceof Date) return x.toISOString();
      const out: WfMap = {};
      for (const [k, v] of Object.entries(x as Record<string, unknown>)) {
        if (v !== undefined) out[k] = fromJs(v);
      }
      return out;
    }
    default:
      return String(x);
  }
}

/** Converts a Workflows value into plain JSON-compatible JS data (integers become numbers). */
export function toJs(v: WfValue): unknown {
  if (v === null || v === undefined) return null;
  switch (typeof v) {
    case 'bigint':
      return Number(v);
    case 'boolean':
    case 'number':
    case 'string':
      return v;
  }
  if (Array.isArray(v)) return v.map(toJs);
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = toJs(x);
  return out;
}

/** Deep equality with Workflows semantics: 1 == 1.0, lists and maps compared structurally. */
export function wfEquals(a: WfValue, b: WfValue): boolean {
  if (a === b) return true;
  const ta = typeName(a);
  const tb = typeName(b);
  if ((ta === 'integer' || ta === 'double') && (tb === 'integer' || tb === 'double')) {
    return Number(a) === Number(b);
  }
  if (ta !== tb) return false;
  if (ta === 'list') {
    const la = a as WfValue[];
    const lb = b as WfValue[];
    return la.length === lb.length && la.every((x, i) => wfEquals(x, lb[i] as WfValue));
  }
  if (ta === 'map') {
    const ma = a as WfMap;
    const mb = b as WfMap;
    const ka = Object.keys(ma);
    if (ka.length !== Object.keys(mb).length) return false;
    return ka.every((k) => Object.hasOwn(mb, k) && wfEquals(ma[k] as WfValue, mb[k] as WfValue));
  }
  if (ta === 'bytes') return Buffer.from(a as Uint8Array).equals(Buffer.from(b as Uint8Array));
  return false;
}

/** Formats a double the way Workflows prints it: always with a fractional part. */
export function formatDouble(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e16) return n.toFixed(1);
  return String(n);
}

/** JSON text of a value (integers stay integers, doubles keep a fractional part). */
export function toJsonText(v: WfValue): string {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'bigint':
      return v.toString();
    case 'number':
      if (!Number.isFinite(v)) return 'null';
      return formatDouble(v);
    case 'boolean':
      return String(v);
    case 'string':
      return JSON.stringify(v);
  }
  if (Array.isArray(v)) return `[${v.map(toJsonText).join(',')}]`;
  if (v instanceof Uint8Array) return JSON.stringify(Buffer.from(v).toString('base64'));
  return `{${Object.entries(v)
    .map(([k, x]) => `${JSON.stringify(k)}:${toJsonText(x)}`)
    .join(',')}}`;
}

/** Short human rendering for error messages. */
export function describe(v: WfValue): string {
  const s = typeof v === 'string' ? JSON.stringify(v) : toJsonText(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** Deep copy so that assignments never alias (Workflows has value semantics). */
export function clone(v: WfValue): WfValue {
  if (v === null || typeof v !== 'object' || v instanceof Uint8Array) return v;
  if (Array.isArray(v)) return v.map(clone);
  const out: WfMap = {};
  for (const k of Object.keys(v)) out[k] = clone(v[k] as WfValue);
  return out;
}
