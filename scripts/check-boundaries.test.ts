import { describe, expect, it } from 'vitest';
import { checkBoundaries, formatViolation, repoFiles, type SourceFile } from './check-boundaries.ts';

const file = (path: string, ...imports: string[]): SourceFile => ({
  path,
  source: imports.map((s, i) => `import { x${i} } from '${s}';`).join('\n'),
});
const rules = (files: SourceFile[]) => checkBoundaries(files).map(formatViolation);

describe('import boundaries', () => {
  it('hold on this repository', () => {
    const root = new URL('..', import.meta.url).pathname;
    expect(checkBoundaries(repoFiles(root)).map(formatViolation)).toEqual([]);
  });

  it('reject a web/src import of server code, naming the rule', () => {
    const out = rules([file('web/src/pages/x.ts', '../../../functions/dataset/rejection.ts')]);
    expect(out).toEqual([
      "web/src/pages/x.ts:1: import '../../../functions/dataset/rejection.ts': web/src imports only shared/contracts (the page gets wire shapes, never server code)",
    ]);
  });

  it('let web/src import shared/contracts and its own modules', () => {
    expect(rules([file('web/src/x.ts', '../../shared/contracts/run.ts', './dom.ts', 'uplot')])).toEqual([]);
  });

  it('reject functions/ or workflows/ importing web/ or cli/', () => {
    const out = rules([
      file('functions/api/x.ts', '../../web/src/api.ts'),
      file('workflows/connectors/y.ts', '../../cli/api-client.ts'),
    ]);
    expect(out).toHaveLength(2);
    expect(out[0]).toContain('functions/ and workflows/ never import web/ or cli/');
  });

  it('reject production code importing a testing module, but let tests do it', () => {
    const out = rules([
      file('functions/runtime.ts', './testing/harness.ts'),
      file('shared/store/x.ts', '../db/testing.ts'),
      file('functions/runtime.test.ts', './testing/harness.ts'),
    ]);
    expect(out.map((l) => l.split(':')[0])).toEqual(['functions/runtime.ts', 'shared/store/x.ts']);
    expect(out[0]).toContain('production code never imports a testing module');
  });

  it('keep pg, onnxruntime-node and @google-cloud/* in their adapters', () => {
    const out = rules([
      file('shared/store/runs.ts', 'pg'),
      file('serving/predictor.ts', 'onnxruntime-node'),
      file('functions/dataset/x.ts', '@google-cloud/storage'),
      file('shared/db/pool.ts', 'pg'),
      file('serving/model/onnx-session.ts', 'onnxruntime-node'),
    ]);
    expect(out.map((l) => l.split(':')[0])).toEqual([
      'shared/store/runs.ts',
      'serving/predictor.ts',
      'functions/dataset/x.ts',
    ]);
    expect(out[0]).toContain('pg is imported only by its adapters (shared/db/); use the port');
  });

  it('find an import cycle like the old loader.ts <-> loader-steps.ts', () => {
    const out = rules([
      file('workflows/runtime/loader.ts', './loader-steps.ts', './program.ts'),
      file('workflows/runtime/loader-steps.ts', './loader.ts'),
      file('workflows/runtime/program.ts'),
    ]);
    expect(out).toEqual([
      "workflows/runtime/loader-steps.ts:1: import 'workflows/runtime/loader.ts': import cycle between workflows/runtime/loader-steps.ts <-> workflows/runtime/loader.ts (split the shared part into its own module)",
    ]);
  });
});
