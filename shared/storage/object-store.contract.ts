import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { AppError } from '../errors.ts';
import type { ObjectStore } from './object-store.ts';

/**
 * The behaviour every ObjectStore adapter must have, run against each adapter with a real
 * backend (the local disk; a GCS-compatible server for `gs://`).
 */
export function objectStoreContract(
  name: string,
  open: () => { store: ObjectStore; bucket: string },
  /**
   * Checks the backend cannot make, each with the reason (shown as a skipped test):
   * `copyPrecondition` — the server ignores `ifGenerationMatch` on rewrites.
   */
  gaps: { copyPrecondition?: string } = {},
): void {
  describe(`ObjectStore contract: ${name}`, () => {
    it('writes, stats and reads back an object, streaming both ways', async () => {
      const { store, bucket } = open();
      const body = Readable.from([Buffer.from('text,label\n'), Buffer.from('hello,greeting\n')]);
      const written = await store.write(bucket, 'demo/data.csv', body);
      expect(written.size).toBe(26);
      expect(written.generation).not.toBe('');
      expect(await text(await store.createReadStream(bucket, 'demo/data.csv'))).toBe(
        'text,label\nhello,greeting\n',
      );
      expect((await store.read(bucket, 'demo/data.csv')).toString()).toBe('text,label\nhello,greeting\n');
    });

    it('refuses a second create-only write to the same object and keeps the first bytes', async () => {
      const { store, bucket } = open();
      await store.write(bucket, 'models/m/v1/model.onnx', 'first', { createOnly: true });
      const second = store.write(bucket, 'models/m/v1/model.onnx', 'second', { createOnly: true });
      await expect(second).rejects.toMatchObject({ code: 'already_exists' });
      await expect(second).rejects.toThrow(/already exists and is immutable/);
      expect((await store.read(bucket, 'models/m/v1/model.onnx')).toString()).toBe('first');
    });

    it('gives a new generation when an object is rewritten', async () => {
      const { store, bucket } = open();
      const a = await store.write(bucket, 'gen/x.csv', 'a');
      await new Promise((r) => setTimeout(r, 5));
      const b = await store.write(bucket, 'gen/x.csv', 'bb');
      expect(b.generation).not.toBe(a.generation);
      expect(b.size).toBe(2);
    });

    it('lists by prefix, recursively and sorted, without neighbours sharing the prefix text', async () => {
      const { store, bucket } = open();
      for (const n of [
        'runs/r1/b.json',
        'runs/r1/a.json',
        'runs/r1/checkpoints/e1.pt',
        'runs/r10/x.json',
        'other/y',
      ]) {
        await store.write(bucket, n, n);
      }
      expect((await store.list(bucket, 'runs/r1/')).map((s) => s.name)).toEqual([
        'runs/r1/a.json',
        'runs/r1/b.json',
        'runs/r1/checkpoints/e1.pt',
      ]);
      expect((await store.list(bucket, 'runs/r1')).map((s) => s.name)).toHaveLength(4);
      expect(await store.list(bucket, 'nothing-here/')).toEqual([]);
    });

    it('copies server-side', async () => {
      const { store, bucket } = open();
      await store.write(bucket, 'runs/r2/model.onnx', 'weights');
      const src = { bucket, name: 'runs/r2/model.onnx' };
      await store.copy(src, { bucket, name: 'models/m/v2/model.onnx' }, { createOnly: true });
      expect((await store.read(bucket, 'models/m/v2/model.onnx')).toString()).toBe('weights');
    });

    // Skipped only where `gaps.copyPrecondition` states why the backend cannot check it.
    const copyGap = gaps.copyPrecondition ? ` (not checkable here: ${gaps.copyPrecondition})` : '';
    it.skipIf(copyGap !== '')(`refuses a create-only copy onto an existing object${copyGap}`, async () => {
      const { store, bucket } = open();
      await store.write(bucket, 'runs/r3/model.onnx', 'weights');
      const src = { bucket, name: 'runs/r3/model.onnx' };
      const dst = { bucket, name: 'models/m/v3/model.onnx' };
      await store.copy(src, dst, { createOnly: true });
      await expect(store.copy(src, dst, { createOnly: true })).rejects.toMatchObject({
        code: 'already_exists',
      });
    });

    it('answers not_found for a missing object, and statIfExists answers undefined', async () => {
      const { store, bucket } = open();
      await expect(store.stat(bucket, 'missing/file')).rejects.toMatchObject({ code: 'not_found' });
      await expect(store.read(bucket, 'missing/file')).rejects.toBeInstanceOf(AppError);
      expect(await store.statIfExists(bucket, 'missing/file')).toBeUndefined();
    });

    it.each([
      ['../escape', '".." path segment'],
      ['a/../../etc/passwd', '".." path segment'],
      ['/etc/passwd', 'absolute'],
      ['a//b', 'empty path segment'],
      ['a/b/', 'empty path segment'],
      ['a\0b', 'NUL'],
      ['a\\..\\b', 'backslash'],
      ['./a', '"." path segment'],
      ['', 'empty'],
    ])('rejects the traversal-prone object name %j', async (bad, why) => {
      const { store, bucket } = open();
      await expect(store.write(bucket, bad, 'x')).rejects.toMatchObject({ code: 'invalid_argument' });
      await expect(store.write(bucket, bad, 'x')).rejects.toThrow(why);
      await expect(store.stat(bucket, bad)).rejects.toMatchObject({ code: 'invalid_argument' });
    });

    it('deletes an object', async () => {
      const { store, bucket } = open();
      await store.write(bucket, 'tmp/del.txt', 'x');
      await store.delete(bucket, 'tmp/del.txt');
      expect(await store.statIfExists(bucket, 'tmp/del.txt')).toBeUndefined();
    });
  });
}
