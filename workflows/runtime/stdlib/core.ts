import { randomUUID } from 'node:crypto';
import { wfError } from '../errors.ts';
import type { BuiltinFn } from '../expr/compile.ts';
import {
  clone,
  formatDouble,
  fromJs,
  isMap,
  toJsonText,
  typeName,
  type WfMap,
  type WfValue,
} from '../values.ts';
import * as a from './args.ts';

/** Core functions: conversions, `default`, `keys`, `len`, `map.*`, `list.*`, `json.*`, `math.*`, `base64.*`, `uuid`, `time`. */
export const coreFunctions: Record<string, BuiltinFn> = {
  default: {
    params: ['value', 'default_value'],
    min: 2,
    fn: ([v, d]) => (v === null ? (d as WfValue) : (v as WfValue)),
  },
  keys: { params: ['map'], min: 1, fn: ([m]) => Object.keys(a.map('keys', 'map', m as WfValue)) },
  len: {
    params: ['value'],
    min: 1,
    fn: ([v]) => {
      if (typeof v === 'string') return BigInt([...v].length);
      if (Array.isArray(v)) return BigInt(v.length);
      if (v instanceof Uint8Array) return BigInt(v.length);
      if (isMap(v as WfValue)) return BigInt(Object.keys(v as WfMap).length);
      throw wfError('TypeError', `len() of ${typeName(v as WfValue)} is not defined`);
    },
  },
  type: { params: ['value'], min: 1, fn: ([v]) => typeName(v as WfValue) },
  int: {
    params: ['value'],
    min: 1,
    fn: ([v]) => {
      if (typeof v === 'bigint') return v;
      if (typeof v === 'number') {
        if (!Number.isFinite(v)) throw wfError('ValueError', `int(): cannot convert ${v} to an integer`);
        return BigInt(Math.trunc(v));
      }
      if (typeof v === 'string' && /^\s*[+-]?\d+\s*$/.test(v)) return BigInt(v.trim());
      if (typeof v === 'string')
        throw wfError('ValueError', `int(): cannot parse ${JSON.stringify(v)} as an integer`);
      throw wfError('TypeError', `int(): cannot convert ${typeName(v as WfValue)} to an integer`);
    },
  },
  double: {
    params: ['value'],
    min: 1,
    fn: ([v]) => {
      if (typeof v === 'bigint' || typeof v === 'number') return Number(v);
      if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
      if (typeof v === 'string')
        throw wfError('ValueError', `double(): cannot parse ${JSON.stringify(v)} as a number`);
      throw wfError('TypeError', `double(): cannot convert ${typeName(v as WfValue)} to a double`);
    },
  },
  string: {
    params: ['value'],
    min: 1,
    fn: ([v]) => {
      if (typeof v === 'string') return v;
      if (typeof v === 'bigint' || typeof v === 'boolean') return String(v);
      if (typeof v === 'number') return formatDouble(v);
      throw wfError(
        'TypeError',
        `string(): cannot convert ${typeName(v as WfValue)}; use json.encode_to_string for lists and maps`,
      );
    },
  },
  bool: {
    params: ['value'],
    min: 1,
    fn: ([v]) => {
      if (typeof v === 'boolean') return v;
      if (typeof v === 'string' && /^(true|false)$/i.test(v)) return v.toLowerCase() === 'true';
      if (typeof v === 'bigint') return v !== 0n;
      throw wfError(
        'TypeError',
        `bool(): cannot convert ${typeName(v as WfValue)} ${toJsonText(v as WfValue)}`,
      );
    },
  },
  'map.get': {
    params: ['map', 'keys'],
    min: 2,
    fn: ([m, k]) => {
      let cur: WfValue = a.map('map.get', 'map', m as WfValue);
      const path = Array.isArray(k) ? k : [k as WfValue];
      for (const key of path) {
        if (!isMap(cur)) return null;
        const s = a.str('map.get', 'keys', key);
        if (!Object.hasOwn(cur, s)) return null;
        cur = cur[s] as WfValue;
      }
      return cur;
    },
  },
  'map.delete': {
    params: ['map', 'key'],
    min: 2,
    fn: ([m, k]) => {
      const out = clone(a.map('map.delete', 'map', m as WfValue)) as WfMap;
      delete out[a.str('map.delete', 'key', k as WfValue)];
      return out;
    },
  },
  'map.merge': {
    params: ['first', 'second'],
    min: 2,
    fn: ([x, y]) => ({
      ...a.map('map.merge', 'first', x as WfValue),
      ...a.map('map.merge', 'second', y as WfValue),
    }),
  },
  'list.concat': {
    params: ['objs', 'val'],
    min: 2,
    fn: ([l, v]) => [...a.list('list.concat', 'objs', l as WfValue), v as WfValue],
  },
  'list.prepend': {
    params: ['objs', 'val'],
    min: 2,
    fn: ([l, v]) => [v as WfValue, ...a.list('list.prepend', 'objs', l as WfValue)],
  },
  'json.encode': {
    params: ['data', 'indent'],
    min: 1,
    fn: ([d]) => new Uint8Array(Buffer.from(toJsonText(d as WfValue), 'utf8')),
  },
  'json.encode_to_string': { params: ['data', 'indent'], min: 1, fn: ([d]) => toJsonText(d as WfValue) },
  'json.decode': {
    params: ['data'],
    min: 1,
    fn: ([d]) => {
      const text = a.textOrBytes('json.decode', 'data', d as WfValue);
      try {
        return fromJs(JSON.parse(text));
      } catch {
        throw wfError('ValueError', `json.decode: not valid JSON: ${text.slice(0, 60)}`);
      }
    },
  },
  'math.floor': {
    params: ['x'],
    min: 1,
    fn: ([x]) => BigInt(Math.floor(a.num('math.floor', 'x', x as WfValue))),
  },
  'math.abs': {
    params: ['x'],
    min: 1,
    fn: ([x]) => (typeof x === 'bigint' ? (x < 0n ? -x : x) : Math.abs(a.num('math.abs', 'x', x as WfValue))),
  },
  'math.max': {
    params: ['x', 'y'],
    min: 2,
    fn: ([x, y]) =>
      a.num('math.max', 'x', x as WfValue) >= a.num('math.max', 'y', y as WfValue)
        ? (x as WfValue)
        : (y as WfValue),
  },
  'math.min': {
    params: ['x', 'y'],
    min: 2,
    fn: ([x, y]) =>
      a.num('math.min', 'x', x as WfValue) <= a.num('math.min', 'y', y as WfValue)
        ? (x as WfValue)
        : (y as WfValue),
  },
  'base64.encode': {
    params: ['data', 'padding'],
    min: 1,
    fn: ([d]) => {
      if (!(d instanceof Uint8Array))
        throw wfError(
          'TypeError',
          `base64.encode: argument data must be bytes, got ${typeName(d as WfValue)}`,
        );
      return Buffer.from(d).toString('base64');
    },
  },
  'base64.decode': {
    params: ['data', 'padding'],
    min: 1,
    fn: ([d]) => new Uint8Array(Buffer.from(a.str('base64.decode', 'data', d as WfValue), 'base64')),
  },
  'uuid.generate': { params: [], min: 0, fn: () => randomUUID() },
  'time.format': {
    params: ['seconds', 'timezone'],
    min: 1,
    fn: ([s]) => new Date(a.num('time.format', 'seconds', s as WfValue) * 1000).toISOString(),
  },
  'time.parse': {
    params: ['value'],
    min: 1,
    fn: ([v]) => {
      const ms = Date.parse(a.str('time.parse', 'value', v as WfValue));
      if (Number.isNaN(ms)) throw wfError('ValueError', `time.parse: not an RFC 3339 time: ${String(v)}`);
      return ms / 1000;
    },
  },
};
