import { describe, expect, it } from 'vitest';
import { checkFileSizes, countLines, isChecked, MAX_LINES, repoFileSizes } from './check-file-size.ts';

const lines = (n: number) => 'x\n'.repeat(n);

describe('file size check', () => {
  it('holds on this repository', () => {
    const root = new URL('..', import.meta.url).pathname;
    const files = repoFileSizes(root);
    expect(files.some((f) => f.path === 'web/src/pages/new-run.ts')).toBe(true);
    expect(checkFileSizes(files)).toEqual([]);
  });

  it('counts lines as an editor shows them', () => {
    expect(countLines('')).toBe(0);
    expect(countLines('a')).toBe(1);
    expect(countLines(lines(3))).toBe(3);
    expect(countLines(`${lines(3)}y`)).toBe(4);
  });

  it('rejects a source file over the limit, naming it and its size', () => {
    const out = checkFileSizes(
      [
        { path: 'functions/api/big.ts', lines: MAX_LINES + 1 },
        { path: 'functions/api/fine.ts', lines: MAX_LINES },
      ],
      {},
    );
    expect(out).toEqual([
      `functions/api/big.ts: ${MAX_LINES + 1} lines, over ${MAX_LINES}: split it into modules with one job each`,
    ]);
  });

  it('checks tests, Python, shell, YAML and CSS too, but not fixtures, generated schemas or data', () => {
    for (const path of ['web/e2e.test.ts', 'training-image/droptune_trainer/run.py', 'scripts/test.sh'])
      expect(isChecked(path)).toBe(true);
    for (const path of ['workflows/pipeline.yaml', 'web/src/styles.css', 'web/index.html'])
      expect(isChecked(path)).toBe(true);
    for (const path of [
      'serving/fixtures/tiny-model/model.onnx',
      'scripts/fixtures/big.ts',
      'training-image/droptune_trainer/schemas/model-settings.schema.json',
      'examples/support-tickets/train.csv',
      'package-lock.json',
    ])
      expect(isChecked(path)).toBe(false);
    expect(checkFileSizes([{ path: 'serving/fixtures/gen.ts', lines: 5000 }], {})).toEqual([]);
  });

  it('lets an allow-listed file stay over the limit, but never grow past its recorded size', () => {
    const oversized = { 'a/b.ts': { max: 450, reason: 'one table' } };
    expect(checkFileSizes([{ path: 'a/b.ts', lines: 450 }], oversized)).toEqual([]);
    expect(checkFileSizes([{ path: 'a/b.ts', lines: 451 }], oversized)).toEqual([
      'a/b.ts: 451 lines, over its allowed 450 (one table): split it, do not raise the limit',
    ]);
  });

  it('reports an allow-list entry that is no longer needed, so the list only shrinks', () => {
    const oversized = { 'a/b.ts': { max: 450, reason: 'one table' }, 'a/gone.ts': { reason: 'x' } };
    expect(checkFileSizes([{ path: 'a/b.ts', lines: 300 }], oversized)).toEqual([
      `a/b.ts: 300 lines, within ${MAX_LINES} now: remove its entry from OVERSIZED`,
      'a/gone.ts: listed in OVERSIZED but not in the repository: remove the entry',
    ]);
  });
});
