import { WorkflowLoadError } from '../errors.ts';
import type { WfValue } from '../values.ts';

/** Expression syntax tree of one `${...}` body. */
export type Expr =
  | { k: 'lit'; v: WfValue }
  | { k: 'var'; name: string }
  | { k: 'member'; obj: Expr; name: string }
  | { k: 'index'; obj: Expr; idx: Expr }
  | { k: 'call'; fn: string; args: Expr[] }
  | { k: 'unary'; op: '-' | '+' | 'not'; e: Expr }
  | { k: 'bin'; op: BinOp; l: Expr; r: Expr }
  | { k: 'list'; items: Expr[] }
  | { k: 'map'; entries: [string, Expr][] };

export type BinOp =
  | '+'
  | '-'
  | '*'
  | '/'
  | '//'
  | '%'
  | '=='
  | '!='
  | '<'
  | '<='
  | '>'
  | '>='
  | 'in'
  | 'and'
  | 'or';

type Tok = { t: 'num' | 'str' | 'id' | 'op' | 'eof'; v: string; pos: number };

const OPS = [
  '//',
  '==',
  '!=',
  '<=',
  '>=',
  '+',
  '-',
  '*',
  '/',
  '%',
  '<',
  '>',
  '(',
  ')',
  '[',
  ']',
  '{',
  '}',
  ',',
  '.',
  ':',
];

function lex(src: string, line: number | undefined): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  const fail = (msg: string): never => {
    throw new WorkflowLoadError(`expression \${${src}}: ${msg} at column ${i + 1}`, line);
  };
  while (i < src.length) {
    const c = src[i] as string;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    if (/[0-9]/.test(c)) {
      const m = /^(?:\d+\.\d*(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+|\d+)/.exec(src.slice(i)) as RegExpExecArray;
      out.push({ t: 'num', v: m[0], pos: i });
      i += m[0].length;
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i)) as RegExpExecArray;
      out.push({ t: 'id', v: m[0], pos: i });
      i += m[0].length;
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      let s = '';
      while (j < src.length && src[j] !== c) {
        if (src[j] === '\\') {
          const n = src[j + 1];
          const esc: Record<string, string> = {
            n: '\n',
            t: '\t',
            r: '\r',
            '\\': '\\',
            '"': '"',
            "'": "'",
            '/': '/',
          };
          if (n === undefined || !(n in esc)) fail(`unknown escape \\${n ?? ''}`);
          s += esc[n as string];
          j += 2;
        } else {
          s += src[j];
          j++;
        }
      }
      if (j >= src.length) fail('unterminated string');
      out.push({ t: 'str', v: s, pos: i });
      i = j + 1;
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (!op) fail(`unexpected character ${JSON.stringify(c)}`);
    out.push({ t: 'op', v: op as string, pos: i });
    i += (op as string).length;
  }
  out.push({ t: 'eof', v: '', pos: src.length });
  return out;
}

const KEYWORD_LITERALS: Record<string, WfValue> = {
  true: true,
  True: true,
  TRUE: true,
  false: false,
  False: false,
  FALSE: false,
  null: null,
};

/**
 * Parses the body of a `${...}` expression. Precedence, loosest first: `or`, `and`, `not`,
 * comparisons and `in`, `+ -`, `* / // %`, unary `-`, then member/index/call.
 */
export function parseExpression(src: string, line?: number): Expr {
  const toks = lex(src, line);
  let p = 0;
  const peek = (): Tok => toks[p] as Tok;
  const fail = (msg: string): never => {
    throw new WorkflowLoadError(`expression \${${src}}: ${msg} at column ${peek().pos + 1}`, line);
  };
  const isOp = (v: string): boolean => peek().t === 'op' && peek().v === v;
  const isKw = (v: string): boolean => peek().t === 'id' && peek().v === v;
  const expect = (v: string): void => {
    if (!isOp(v))
      fail(`expected "${v}" but found ${peek().t === 'eof' ? 'end of expression' : `"${peek().v}"`}`);
    p++;
  };

  const orExpr = (): Expr => {
    let l = andExpr();
    while (isKw('or')) {
      p++;
      l = { k: 'bin', op: 'or', l, r: andExpr() };
    }
    return l;
  };
  const andExpr = (): Expr => {
    let l = notExpr();
    while (isKw('and')) {
      p++;
      l = { k: 'bin', op: 'and', l, r: notExpr() };
    }
    return l;
  };
  const notExpr = (): Expr => {
    if (isKw('not')) {
      p++;
      return { k: 'unary', op: 'not', e: notExpr() };
    }
    return cmpExpr();
  };
  const cmpExpr = (): Expr => {
    let l = addExpr();
    for (;;) {
      const t = peek();
      if (t.t === 'op' && ['==', '!=', '<', '<=', '>', '>='].includes(t.v)) {
        p++;
        l = { k: 'bin', op: t.v as BinOp, l, r: addExpr() };
      } else if (isKw('in')) {
        p++;
        l = { k: 'bin', op: 'in', l, r: addExpr() };
      } else return l;
    }
  };
  const addExpr = (): Expr => {
    let l = mulExpr();
    while (isOp('+') || isOp('-')) {
      const op = peek().v as BinOp;
      p++;
      l = { k: 'bin', op, l, r: mulExpr() };
    }
    return l;
  };
  const mulExpr = (): Expr => {
    let l = unary();
    while (isOp('*') || isOp('/') || isOp('//') || isOp('%')) {
      const op = peek().v as BinOp;
      p++;
      l = { k: 'bin', op, l, r: unary() };
    }
    return l;
  };
  const unary = (): Expr => {
    if (isOp('-') || isOp('+')) {
      const op = peek().v as '-' | '+';
      p++;
      return { k: 'unary', op, e: unary() };
    }
    return postfix(primary());
  };
  const postfix = (e: Expr): Expr => {
    for (;;) {
      if (isOp('.')) {
        p++;
        const t = peek();
        if (t.t !== 'id') fail('expected a name after "."');
        p++;
        e = { k: 'member', obj: e, name: t.v };
      } else if (isOp('[')) {
        p++;
        const idx = orExpr();
        expect(']');
        e = { k: 'index', obj: e, idx };
      } else if (isOp('(')) {
        const fn = dottedName(e);
        if (fn === undefined) fail('only named functions can be called');
        p++;
        const args: Expr[] = [];
        if (!isOp(')')) {
          args.push(orExpr());
          while (isOp(',')) {
            p++;
            args.push(orExpr());
          }
        }
        expect(')');
        e = { k: 'call', fn: fn as string, args };
      } else return e;
    }
  };
  const primary = (): Expr => {
    const t = peek();
    if (t.t === 'num') {
      p++;
      return { k: 'lit', v: /[.eE]/.test(t.v) ? Number(t.v) : BigInt(t.v) };
    }
    if (t.t === 'str') {
      p++;
      return { k: 'lit', v: t.v };
    }
    if (t.t === 'id') {
      if (['and', 'or', 'in'].includes(t.v)) fail(`unexpected keyword "${t.v}"`);
      p++;
      if (Object.hasOwn(KEYWORD_LITERALS, t.v)) return { k: 'lit', v: KEYWORD_LITERALS[t.v] as WfValue };
      return { k: 'var', name: t.v };
    }
    if (isOp('(')) {
      p++;
      const e = orExpr();
      expect(')');
      return e;
    }
    if (isOp('[')) {
      p++;
      const items: Expr[] = [];
      if (!isOp(']')) {
        items.push(orExpr());
        while (isOp(',')) {
          p++;
          items.push(orExpr());
        }
      }
      expect(']');
      return { k: 'list', items };
    }
    if (isOp('{')) {
      p++;
      const entries: [string, Expr][] = [];
      while (!isOp('}')) {
        const key = peek();
        if (key.t !== 'str' && key.t !== 'id') fail('map keys must be strings');
        p++;
        expect(':');
        entries.push([key.v, orExpr()]);
        if (!isOp(',')) break;
        p++;
      }
      expect('}');
      return { k: 'map', entries };
    }
    return fail(t.t === 'eof' ? 'unexpected end of expression' : `unexpected "${t.v}"`);
  };

  if (peek().t === 'eof') fail('empty expression');
  const e = orExpr();
  if (peek().t !== 'eof') fail(`unexpected "${peek().v}"`);
  return e;
}

/** `a.b.c` for a chain of plain names, else undefined. */
export function dottedName(e: Expr): string | undefined {
  if (e.k === 'var') return e.name;
  if (e.k === 'member') {
    const base = dottedName(e.obj);
    return base === undefined ? undefined : `${base}.${e.name}`;
  }
  return undefined;
}
