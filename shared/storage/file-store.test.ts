import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { FileObjectStore } from './file-store.ts';
import { objectStoreContract } from './object-store.contract.ts';

const root = mkdtempSync(join(tmpdir(), 'droptune-buckets-'));
const store = new FileObjectStore(root);

objectStoreContract('file://', () => ({ store, bucket: 'local-models' }));

it('never leaves temporary files behind after a refused create-only write', async () => {
  await store.write('tmpcheck', 'a', 'x', { createOnly: true });
  await expect(store.write('tmpcheck', 'a', 'y', { createOnly: true })).rejects.toMatchObject({
    code: 'already_exists',
  });
  expect(readdirSync(join(root, '.tmp'))).toEqual([]);
});

it('keeps every object inside its bucket directory', () => {
  expect(store.pathOf('bk1', 'x/y.csv')).toBe(join(root, 'bk1', 'x', 'y.csv'));
  expect(() => store.pathOf('..', 'x')).toThrow(/invalid bucket name/);
});
