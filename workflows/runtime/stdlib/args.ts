import { wfError } from '../errors.ts';
import { describe, isMap, typeName, type WfMap, type WfValue } from '../values.ts';

/** Argument checks shared by builtins: a wrong type is a TypeError naming the function and argument. */
export function str(fn: string, name: string, v: WfValue): string {
  if (typeof v !== 'string')
    throw wfError('TypeError', `${fn}: argument ${name} must be a string, got ${typeName(v)}`);
  return v;
}
export function int(fn: string, name: string, v: WfValue): bigint {
  if (typeof v !== 'bigint')
    throw wfError('TypeError', `${fn}: argument ${name} must be an integer, got ${typeName(v)}`);
  return v;
}
export function num(fn: string, name: string, v: WfValue): number {
  if (typeof v !== 'bigint' && typeof v !== 'number') {
    throw wfError('TypeError', `${fn}: argument ${name} must be a number, got ${typeName(v)}`);
  }
  return Number(v);
}
export function map(fn: string, name: string, v: WfValue): WfMap {
  if (!isMap(v)) throw wfError('TypeError', `${fn}: argument ${name} must be a map, got ${typeName(v)}`);
  return v;
}
export function list(fn: string, name: string, v: WfValue): WfValue[] {
  if (!Array.isArray(v))
    throw wfError('TypeError', `${fn}: argument ${name} must be a list, got ${typeName(v)}`);
  return v;
}
export function textOrBytes(fn: string, name: string, v: WfValue): string {
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return Buffer.from(v).toString('utf8');
  throw wfError(
    'TypeError',
    `${fn}: argument ${name} must be a string or bytes, got ${typeName(v)} ${describe(v)}`,
  );
}
