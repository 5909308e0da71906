import { wfError } from '../errors.ts';
import type { BuiltinFn } from '../expr/compile.ts';
import type { WfValue } from '../values.ts';
import * as a from './args.ts';

function regex(fn: string, pattern: WfValue, flags = ''): RegExp {
  const p = a.str(fn, 'regexp', pattern);
  try {
    return new RegExp(p, flags);
  } catch {
    throw wfError('ValueError', `${fn}: invalid regular expression ${JSON.stringify(p)}`);
  }
}

const s = (fn: string, v: WfValue | undefined, name = 'source'): string => a.str(fn, name, v as WfValue);

/** The `text.*` functions (indexes count Unicode code points, as Workflows does). */
export const textFunctions: Record<string, BuiltinFn> = {
  'text.split': {
    params: ['source', 'separator'],
    min: 2,
    fn: ([x, sep]) => s('text.split', x).split(s('text.split', sep, 'separator')),
  },
  'text.to_lower': { params: ['source'], min: 1, fn: ([x]) => s('text.to_lower', x).toLowerCase() },
  'text.to_upper': { params: ['source'], min: 1, fn: ([x]) => s('text.to_upper', x).toUpperCase() },
  'text.substring': {
    params: ['source', 'start', 'end'],
    min: 3,
    fn: ([x, st, en]) => {
      const cps = [...s('text.substring', x)];
      const from = Math.max(0, Number(a.int('text.substring', 'start', st as WfValue)));
      const to = Math.min(cps.length, Number(a.int('text.substring', 'end', en as WfValue)));
      return from >= to ? '' : cps.slice(from, to).join('');
    },
  },
  'text.replace_all': {
    params: ['source', 'substr', 'repl'],
    min: 3,
    fn: ([x, sub, r]) =>
      s('text.replace_all', x)
        .split(s('text.replace_all', sub, 'substr'))
        .join(s('text.replace_all', r, 'repl')),
  },
  'text.find_all': {
    params: ['source', 'substr'],
    min: 2,
    fn: ([x, sub]) => {
      const src = s('text.find_all', x);
      const needle = s('text.find_all', sub, 'substr');
      const out: WfValue[] = [];
      if (needle === '') return out;
      for (let i = src.indexOf(needle); i >= 0; i = src.indexOf(needle, i + needle.length)) {
        out.push({ index: BigInt([...src.slice(0, i)].length), match: needle });
      }
      return out;
    },
  },
  'text.match_regex': {
    params: ['source', 'regexp'],
    min: 2,
    fn: ([x, r]) => regex('text.match_regex', r as WfValue).test(s('text.match_regex', x)),
  },
  'text.find_all_regex': {
    params: ['source', 'regexp'],
    min: 2,
    fn: ([x, r]) => {
      const src = s('text.find_all_regex', x);
      return [...src.matchAll(regex('text.find_all_regex', r as WfValue, 'g'))].map((m) => ({
        index: BigInt([...src.slice(0, m.index)].length),
        match: m[0],
      }));
    },
  },
  'text.replace_all_regex': {
    params: ['source', 'regexp', 'repl'],
    min: 3,
    fn: ([x, r, rep]) =>
      s('text.replace_all_regex', x).replace(
        regex('text.replace_all_regex', r as WfValue, 'g'),
        s('text.replace_all_regex', rep, 'repl').replace(/\\(\d)/g, '$$$1'),
      ),
  },
  'text.url_encode': { params: ['source'], min: 1, fn: ([x]) => encodeURIComponent(s('text.url_encode', x)) },
  'text.url_decode': { params: ['source'], min: 1, fn: ([x]) => decodeURIComponent(s('text.url_decode', x)) },
  'text.encode': {
    params: ['text', 'charset'],
    min: 1,
    fn: ([x]) => new Uint8Array(Buffer.from(s('text.encode', x, 'text'), 'utf8')),
  },
  'text.decode': {
    params: ['data', 'charset'],
    min: 1,
    fn: ([d]) => {
      if (!(d instanceof Uint8Array)) throw wfError('TypeError', 'text.decode: argument data must be bytes');
      return Buffer.from(d).toString('utf8');
    },
  },
};
