import { wfError } from '../errors.ts';
import { describe, inInt64, isMap, typeName, type WfMap, type WfValue, wfEquals } from '../values.ts';

function checkInt(v: bigint): bigint {
  if (!inInt64(v)) throw wfError('ValueError', 'integer overflow: result does not fit in 64 bits');
  return v;
}

function bothNumbers(op: string, a: WfValue, b: WfValue): void {
  const ta = typeName(a);
  const tb = typeName(b);
  if ((ta !== 'integer' && ta !== 'double') || (tb !== 'integer' && tb !== 'double')) {
    throw wfError('TypeError', `unsupported operand types for ${op}: ${ta} and ${tb}`);
  }
}

/** Binary arithmetic and comparison with Workflows' typing rules (int op int stays int, `/` is always double). */
export function binary(op: string, a: WfValue, b: WfValue): WfValue {
  switch (op) {
    case '+':
      if (typeof a === 'string' && typeof b === 'string') return a + b;
      bothNumbers(op, a, b);
      if (typeof a === 'bigint' && typeof b === 'bigint') return checkInt(a + b);
      return Number(a) + Number(b);
    case '-':
      bothNumbers(op, a, b);
      if (typeof a === 'bigint' && typeof b === 'bigint') return checkInt(a - b);
      return Number(a) - Number(b);
    case '*':
      bothNumbers(op, a, b);
      if (typeof a === 'bigint' && typeof b === 'bigint') return checkInt(a * b);
      return Number(a) * Number(b);
    case '/':
      bothNumbers(op, a, b);
      if (Number(b) === 0) throw wfError('ZeroDivisionError', 'division by zero');
      return Number(a) / Number(b);
    case '//':
      bothNumbers(op, a, b);
      if (Number(b) === 0) throw wfError('ZeroDivisionError', 'integer division by zero');
      if (typeof a === 'bigint' && typeof b === 'bigint') {
        const q = a / b;
        return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
      }
      return Math.floor(Number(a) / Number(b));
    case '%':
      bothNumbers(op, a, b);
      if (Number(b) === 0) throw wfError('ZeroDivisionError', 'modulo by zero');
      if (typeof a === 'bigint' && typeof b === 'bigint') {
        const r = a % b;
        return r !== 0n && r < 0n !== b < 0n ? r + b : r;
      }
      {
        const r = Number(a) % Number(b);
        return r !== 0 && r < 0 !== Number(b) < 0 ? r + Number(b) : r;
      }
    case '==':
      return wfEquals(a, b);
    case '!=':
      return !wfEquals(a, b);
    case '<':
    case '<=':
    case '>':
    case '>=':
      return compare(op, a, b);
    case 'in':
      if (Array.isArray(b)) return b.some((x) => wfEquals(x, a));
      if (isMap(b)) {
        if (typeof a !== 'string')
          throw wfError('TypeError', `map keys are strings; cannot test ${typeName(a)} in map`);
        return Object.hasOwn(b, a);
      }
      throw wfError('TypeError', `"in" needs a list or a map on the right, got ${typeName(b)}`);
  }
  throw wfError('TypeError', `unknown operator ${op}`);
}

function compare(op: string, a: WfValue, b: WfValue): boolean {
  const ta = typeName(a);
  const tb = typeName(b);
  let c: number;
  if ((ta === 'integer' || ta === 'double') && (tb === 'integer' || tb === 'double')) {
    if (typeof a === 'bigint' && typeof b === 'bigint') c = a < b ? -1 : a > b ? 1 : 0;
    else c = Number(a) - Number(b);
  } else if (ta === 'string' && tb === 'string') {
    c = (a as string) < (b as string) ? -1 : (a as string) > (b as string) ? 1 : 0;
  } else {
    throw wfError('TypeError', `cannot compare ${ta} with ${tb} using ${op}`);
  }
  return op === '<' ? c < 0 : op === '<=' ? c <= 0 : op === '>' ? c > 0 : c >= 0;
}

export function negate(v: WfValue): WfValue {
  if (typeof v === 'bigint') return checkInt(-v);
  if (typeof v === 'number') return -v;
  throw wfError('TypeError', `bad operand type for unary -: ${typeName(v)}`);
}

export function asBool(v: WfValue, what: string): boolean {
  if (typeof v !== 'boolean')
    throw wfError('TypeError', `${what} must be a boolean, got ${typeName(v)} ${describe(v)}`);
  return v;
}

/** `obj.name` / `obj["name"]` on a map: KeyError when missing, TypeError on non-maps. */
export function getKey(obj: WfValue, key: string): WfValue {
  if (!isMap(obj)) throw wfError('TypeError', `cannot read key "${key}" of ${typeName(obj)}`);
  const v = (obj as WfMap)[key];
  if (v === undefined || !Object.hasOwn(obj, key)) throw wfError('KeyError', `key not found: ${key}`);
  return v;
}

/** `obj[idx]`: lists by integer index (IndexError out of range), maps by string key. */
export function getIndex(obj: WfValue, idx: WfValue): WfValue {
  if (Array.isArray(obj)) {
    if (typeof idx !== 'bigint')
      throw wfError('TypeError', `list indices must be integers, got ${typeName(idx)}`);
    if (idx < 0n || idx >= BigInt(obj.length)) {
      throw wfError('IndexError', `list index ${idx} out of range (length ${obj.length})`);
    }
    return obj[Number(idx)] as WfValue;
  }
  if (isMap(obj)) {
    if (typeof idx !== 'string') throw wfError('TypeError', `map keys must be strings, got ${typeName(idx)}`);
    return getKey(obj, idx);
  }
  throw wfError('TypeError', `${typeName(obj)} is not subscriptable`);
}
