import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type InProcessServer,
  post,
  REPO_ROOT,
  readGolden,
  type StagedModel,
  stageModel,
  startInProcess,
} from '../../serving/testing/harness.ts';
import { isAppError } from '../../shared/errors.ts';
import { predictAll, predictionRows } from './predict.ts';
import { readInstances } from './predict-input.ts';

const PAIR_DIR = join(REPO_ROOT, 'serving/fixtures/tiny-pair');
const dir = mkdtempSync(join(tmpdir(), 'droptune-predict-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(isAppError(err, 'invalid_argument')).toBe(true);
    return (err as Error).message;
  }
  throw new Error('expected an error');
}

describe('readInstances', () => {
  it('reads a .jsonl file line by line: strings, {text} and {text, text_pair}, blank lines skipped', () => {
    const path = file('a.jsonl', '"one"\n\n{"text": "two"}\r\n{"text": "q", "text_pair": "a"}\n');
    expect(readInstances(path)).toEqual(['one', { text: 'two' }, { text: 'q', text_pair: 'a' }]);
  });

  it('names the line of a .jsonl line that is not JSON or not an instance', () => {
    expect(errorOf(() => readInstances(file('b.jsonl', '"ok"\n\n{"text": 1}\n')))).toMatch(
      /b\.jsonl line 3: expected/,
    );
    expect(errorOf(() => readInstances(file('c.jsonl', '"ok"\n{oops\n')))).toMatch(
      /c\.jsonl line 2: not JSON/,
    );
    expect(errorOf(() => readInstances(file('d.jsonl', '{"txt": "typo"}\n')))).toMatch(/line 1/);
  });

  it('reads a .csv by its text (and text_pair) columns, ignoring a held-out label column', () => {
    const path = file('a.csv', '\uFEFFlabel,text,text_pair\nx,"is it, here?",yes\r\ny,"two\nlines",no\n');
    expect(readInstances(path)).toEqual([
      { text: 'is it, here?', text_pair: 'yes' },
      { text: 'two\nlines', text_pair: 'no' },
    ]);
    expect(readInstances(file('b.csv', 'text,label\nhello,x\n'))).toEqual(['hello']);
  });

  it('refuses a .csv without a text column, a ragged row, an empty file and other extensions, naming them', () => {
    expect(errorOf(() => readInstances(file('c.csv', 'body,label\nx,y\n')))).toMatch(
      /c\.csv line 1: the header needs a "text" column/,
    );
    expect(errorOf(() => readInstances(file('d.csv', 'text,label\nx,y\nz\n')))).toMatch(/d\.csv: .*line 3/);
    expect(errorOf(() => readInstances(file('e.jsonl', '\n\n')))).toMatch(/e\.jsonl: holds no instances/);
    expect(errorOf(() => readInstances(file('f.txt', 'x')))).toMatch(/expected a \.jsonl or \.csv file/);
    expect(errorOf(() => readInstances(join(dir, 'missing.csv')))).toMatch(/cannot read it/);
  });
});

describe('predictAll over real HTTP', () => {
  const golden = readGolden();
  let staged: StagedModel;
  let server: InProcessServer;
  beforeAll(async () => {
    staged = stageModel();
    server = await startInProcess(staged, { maxInstances: 3 });
  });
  afterAll(async () => {
    await server.close();
    staged.cleanup();
  });

  it('sends batches within the instance limit and returns one response with every prediction in order', async () => {
    const texts = golden.cases.map((c) => c.text);
    expect(texts.length).toBeGreaterThan(3);
    const body = await predictAll(server.url, staged.modelName, texts, 3);
    expect(body.model).toEqual({ name: staged.modelName, version: 1 });
    expect(body.predictions.map((p) => (p as { label: string }).label)).toEqual(
      golden.cases.map((c) => c.label),
    );
    // The same as one request per text.
    for (const [i, text] of texts.entries()) {
      const one = await post(`${server.url}/v1/models/${staged.modelName}:predict`, { instances: [text] });
      expect((one.json.predictions as unknown[])[0]).toEqual(body.predictions[i]);
    }
    expect(predictionRows(texts, body.predictions)[0]).toEqual([
      texts[0]!.slice(0, 60),
      golden.cases[0]!.label,
      expect.stringMatching(/^0\.\d{3}$/),
    ]);
  });

  it('names the instance of the whole input when the server refuses one in a later batch', async () => {
    const instances = ['a', 'b', 'c', 'd', { text: 'e', text_pair: 'f' }];
    const err = await predictAll(server.url, staged.modelName, instances, 3).catch((e: unknown) => e);
    expect(isAppError(err, 'invalid_argument')).toBe(true);
    expect((err as Error).message).toMatch(/^instances\[4\]\.text_pair: /);
  });

  it('a batch over the server limit is its 400, not a silent cut', async () => {
    const err = await predictAll(server.url, staged.modelName, ['a', 'b', 'c', 'd'], 4).catch(
      (e: unknown) => e,
    );
    expect((err as Error).message).toMatch(/the limit is 3 per request/);
  });
});

describe("predict --input for a pair model (the trainer's tiny-pair fixture)", () => {
  const pairGolden = JSON.parse(readFileSync(join(PAIR_DIR, 'golden.json'), 'utf8')) as {
    cases: { text: string; textPair: string; prediction: { label: string } }[];
  };
  let staged: StagedModel;
  let server: InProcessServer;
  beforeAll(async () => {
    staged = stageModel(PAIR_DIR);
    server = await startInProcess(staged, { maxInstances: 3 });
  });
  afterAll(async () => {
    await server.close();
    staged.cleanup();
  });

  it('scores a .csv with text,text_pair columns and a .jsonl of pairs to the same labels Python served', async () => {
    const quote = (v: string) => `"${v.replaceAll('"', '""')}"`;
    const csv = file(
      'pairs.csv',
      `text,text_pair,label\n${pairGolden.cases.map((c) => `${quote(c.text)},${quote(c.textPair)},x`).join('\n')}\n`,
    );
    const jsonl = file(
      'pairs.jsonl',
      pairGolden.cases.map((c) => JSON.stringify({ text: c.text, text_pair: c.textPair })).join('\n'),
    );
    const expected = pairGolden.cases.map((c) => c.prediction.label);
    for (const path of [csv, jsonl]) {
      const body = await predictAll(server.url, staged.modelName, readInstances(path), 3);
      expect(body.predictions.map((p) => (p as { label: string }).label)).toEqual(expected);
    }
    // A bare text is refused for a pair model, naming the instance of the whole file.
    const err = await predictAll(server.url, staged.modelName, [...readInstances(jsonl), 'bare'], 3).catch(
      (e: unknown) => e,
    );
    expect((err as Error).message).toMatch(
      new RegExp(`^instances\\[${pairGolden.cases.length}\\]\\.text_pair: required`),
    );
  });
});
