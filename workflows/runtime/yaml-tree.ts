import {
  Alias,
  type Document,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  type Node as YNode,
} from 'yaml';
import { WorkflowLoadError } from './errors.ts';

/** A YAML node with the line it starts on, so load errors can point at the source. */
export type LNode =
  | { kind: 'map'; line: number; entries: { key: string; line: number; value: LNode }[] }
  | { kind: 'seq'; line: number; items: LNode[] }
  | { kind: 'scalar'; line: number; value: unknown };

/** Parses workflow YAML (or JSON, which is YAML) keeping line numbers; integers come back as bigint. */
export function parseYamlTree(source: string): LNode {
  const lineCounter = new LineCounter();
  const doc = parseDocument(source, { lineCounter, intAsBigInt: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0] as { message: string; linePos?: [{ line: number }] };
    throw new WorkflowLoadError(`invalid YAML: ${e.message.split('\n')[0]}`, e.linePos?.[0]?.line);
  }
  const lineOf = (n: YNode | null | undefined): number => {
    const off = n?.range?.[0];
    return off === undefined ? 0 : lineCounter.linePos(off).line;
  };
  const walk = (n: unknown, fallbackLine: number): LNode => {
    if (n instanceof Alias) return walk(n.resolve(doc as Document), fallbackLine);
    if (isMap(n)) {
      const entries = n.items.map((pair) => {
        const k = pair.key as YNode | null;
        const keyValue = isScalar(k) ? k.value : k;
        if (
          typeof keyValue !== 'string' &&
          typeof keyValue !== 'bigint' &&
          typeof keyValue !== 'number' &&
          typeof keyValue !== 'boolean'
        ) {
          throw new WorkflowLoadError('map keys must be plain strings', lineOf(k));
        }
        const keyLine = lineOf(k) || fallbackLine;
        return { key: String(keyValue), line: keyLine, value: walk(pair.value, keyLine) };
      });
      return { kind: 'map', line: lineOf(n) || fallbackLine, entries };
    }
    if (isSeq(n)) {
      return {
        kind: 'seq',
        line: lineOf(n) || fallbackLine,
        items: n.items.map((i) => walk(i, lineOf(n) || fallbackLine)),
      };
    }
    if (isScalar(n)) return { kind: 'scalar', line: lineOf(n) || fallbackLine, value: n.value };
    if (n === null || n === undefined) return { kind: 'scalar', line: fallbackLine, value: null };
    throw new WorkflowLoadError('unsupported YAML node', fallbackLine);
  };
  return walk(doc.contents, 1);
}

export function entry(n: LNode & { kind: 'map' }, key: string): LNode | undefined {
  return n.entries.find((e) => e.key === key)?.value;
}
