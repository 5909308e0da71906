import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isAppError } from '../../shared/errors.ts';
import { openStore } from '../../shared/storage/index.ts';
import { type StagedModel, stageModel } from '../testing/harness.ts';
import { loadModel, parseVersionPrefix } from './load-model.ts';

let staged: StagedModel | undefined;
afterEach(() => staged?.cleanup());

function load(s: StagedModel, variant: 'fp32' | 'int8' = 'fp32', warn?: (m: string) => void) {
  const { store, bucket, name } = openStore(s.modelUri, { home: s.home });
  return loadModel({ store, bucket, prefix: name, uri: s.modelUri }, { variant, threads: 1, warn });
}

function editManifest(
  s: StagedModel,
  edit: (m: { modelName: string; files: { path: string; size: number; sha256: string }[] }) => void,
) {
  const p = join(s.dir, 'manifest.json');
  const m = JSON.parse(readFileSync(p, 'utf8'));
  edit(m);
  writeFileSync(p, JSON.stringify(m));
}

async function failure(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isAppError(err, 'failed_precondition')).toBe(true);
  return (err as Error).message;
}

describe('loading a model version through the file:// store', () => {
  it('loads a whole version: labels, config, version number, the fp32 model', async () => {
    staged = stageModel();
    const m = await load(staged);
    expect(m.version).toBe(1);
    expect(m.modelFile).toBe('model.onnx');
    expect(m.labels.length).toBeGreaterThanOrEqual(2);
    await m.session.dispose();
  });

  it('refuses a manifest that lists an unsafe path', async () => {
    staged = stageModel();
    editManifest(staged, (m) => m.files.push({ path: '../../etc/passwd', size: 1, sha256: 'a'.repeat(64) }));
    expect(await failure(load(staged))).toContain('unsafe path "../../etc/passwd"');
  });

  it('refuses a manifest that breaks the schema, naming the field', async () => {
    staged = stageModel();
    editManifest(staged, (m) => {
      m.files[0]!.sha256 = 'not-a-hash';
    });
    expect(await failure(load(staged))).toMatch(/manifest\.json in .*: files\.0\.sha256/);
  });

  it('refuses a version whose manifest names another model than its folder', async () => {
    staged = stageModel();
    editManifest(staged, (m) => {
      m.modelName = 'someone-else';
    });
    expect(await failure(load(staged))).toContain('manifest.json names model "someone-else"');
  });

  it('refuses a version whose manifest omits a required file', async () => {
    staged = stageModel();
    editManifest(staged, (m) => {
      m.files = m.files.filter((f) => f.path !== 'config.json');
    });
    expect(await failure(load(staged))).toContain('config.json is not listed in manifest.json');
  });

  it('refuses a file that is larger than the manifest says', async () => {
    staged = stageModel();
    writeFileSync(
      join(staged.dir, 'labels.json'),
      `${readFileSync(join(staged.dir, 'labels.json'), 'utf8')}   `,
    );
    expect(await failure(load(staged))).toMatch(/labels\.json: size mismatch .*more than/);
  });

  it('verifies the served model by sha256 and still requires the unserved variant, whole', async () => {
    staged = stageModel();
    const served = join(staged.dir, 'model.onnx');
    const bytes = readFileSync(served);
    bytes[bytes.length >> 1] = bytes[bytes.length >> 1]! ^ 0xff;
    writeFileSync(served, bytes);
    expect(await failure(load(staged))).toContain('model.onnx: sha256 mismatch');

    staged.cleanup();
    staged = stageModel();
    rmSync(join(staged.dir, 'model.int8.onnx'));
    expect(await failure(load(staged, 'fp32'))).toContain(
      'model.int8.onnx is listed in manifest.json but missing',
    );

    staged.cleanup();
    staged = stageModel();
    writeFileSync(join(staged.dir, 'model.int8.onnx'), 'short');
    expect(await failure(load(staged, 'fp32'))).toMatch(/model\.int8\.onnx: size mismatch .*got 5\)/);
  });

  it('falls back to model.onnx with a warning when int8 is asked for but absent', async () => {
    staged = stageModel();
    editManifest(staged, (m) => {
      m.files = m.files.filter((f) => f.path !== 'model.int8.onnx');
    });
    const warnings: string[] = [];
    const m = await load(staged, 'int8', (w) => warnings.push(w));
    expect(m.modelFile).toBe('model.onnx');
    expect(warnings[0]).toContain('no model.int8.onnx');
    await m.session.dispose();
  });
});

describe('parseVersionPrefix', () => {
  it('reads model and version from models/<model>/v<N>/', () => {
    expect(parseVersionPrefix('models/support-tickets/v12/')).toEqual({
      modelNameInUri: 'support-tickets',
      version: 12,
    });
    expect(parseVersionPrefix('runs/r-123/')).toEqual({ modelNameInUri: null, version: null });
  });
});
