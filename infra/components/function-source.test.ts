import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import { describe, expect, it } from 'vitest';
import { functionSource, hashDirectory } from './function-source.ts';

function bundle(root: string, name: string, code: string): string {
  const dir = join(root, name);
  mkdirSync(join(dir, 'sub'), { recursive: true });
  writeFileSync(join(dir, 'index.js'), code);
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  writeFileSync(join(dir, 'sub', 'asset.txt'), 'a');
  return dir;
}

describe('functionSource', () => {
  const root = mkdtempSync(join(tmpdir(), 'droptune-src-'));

  it('archives a complete bundle under a content-addressed object name', () => {
    const a = bundle(root, 'a', 'export {}');
    const b = bundle(root, 'b', 'export {}');
    const c = bundle(root, 'c', 'export const x = 1');
    expect(hashDirectory(a)).toBe(hashDirectory(b));
    expect(hashDirectory(a)).not.toBe(hashDirectory(c));
    const src = functionSource(root, 'a', false);
    expect(src.placeholder).toBe(false);
    expect(src.archive).toBeInstanceOf(pulumi.asset.FileArchive);
    expect(src.objectName).toBe(`a-${hashDirectory(a).slice(0, 16)}.zip`);
  });

  it('previews a missing bundle with a placeholder', () => {
    const src = functionSource(root, 'missing', true);
    expect(src.placeholder).toBe(true);
    expect(src.objectName).toBe('missing-placeholder.zip');
    expect(src.archive).toBeInstanceOf(pulumi.asset.AssetArchive);
  });

  it('refuses to deploy a missing or incomplete bundle', () => {
    expect(() => functionSource(root, 'missing', false)).toThrow(
      /run `npm run bundle:functions` before `pulumi up`/,
    );
    mkdirSync(join(root, 'half'));
    writeFileSync(join(root, 'half', 'index.js'), '');
    expect(() => functionSource(root, 'half', false)).toThrow(/needs package.json and index.js/);
  });
});
