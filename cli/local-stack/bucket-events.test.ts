import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { FileObjectStore } from '../../shared/storage/index.ts';
import { BucketEvents, FINALIZED } from './bucket-events.ts';

interface Received {
  headers: IncomingMessage['headers'];
  body: Record<string, string>;
}

async function receiver(
  failFirst = 0,
): Promise<{ url: string; got: Received[]; ids: string[]; close: () => void }> {
  const got: Received[] = [];
  const ids: string[] = [];
  let failures = failFirst;
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      ids.push(String(req.headers['ce-id']));
      if (failures-- > 0) {
        res.statusCode = 500;
        return res.end();
      }
      got.push({ headers: req.headers, body: JSON.parse(raw) });
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}/`, got, ids, close: () => server.close() };
}

const waitFor = async (cond: () => boolean, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 25));
  }
};

let cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanup) await c();
  cleanup = [];
});

it('turns a new object into a storage finalized CloudEvent in binary mode, like Eventarc', async () => {
  const root = mkdtempSync(join(tmpdir(), 'droptune-buckets-'));
  const store = new FileObjectStore(root);
  mkdirSync(join(root, 'datasets'), { recursive: true });
  const r = await receiver();
  const events = new BucketEvents(store, 'datasets', r.url);
  await events.start();
  cleanup.push(() => events.stop(), r.close);
  const written = await store.write('datasets', 'tickets/train.csv', 'text,label\na,b\n');
  await waitFor(() => r.got.length === 1);
  const [ev] = r.got;
  expect(ev!.headers['ce-type']).toBe(FINALIZED);
  expect(ev!.headers['ce-source']).toBe('//storage.googleapis.com/projects/_/buckets/datasets');
  expect(ev!.headers['ce-subject']).toBe('objects/tickets/train.csv');
  expect(ev!.body).toMatchObject({
    bucket: 'datasets',
    name: 'tickets/train.csv',
    generation: written.generation,
    size: '15',
  });
});

it('delivers a file copied in by hand once it is complete, and objects present before start', async () => {
  const root = mkdtempSync(join(tmpdir(), 'droptune-buckets-'));
  const store = new FileObjectStore(root);
  mkdirSync(join(root, 'datasets', 'early'), { recursive: true });
  writeFileSync(join(root, 'datasets', 'early', 'a.csv'), 'x');
  const r = await receiver();
  const events = new BucketEvents(store, 'datasets', r.url);
  await events.start();
  cleanup.push(() => events.stop(), r.close);
  await waitFor(() => r.got.length === 1);
  const src = join(root, 'src.csv');
  writeFileSync(src, 'y'.repeat(100_000));
  mkdirSync(join(root, 'datasets', 'byhand'), { recursive: true });
  copyFileSync(src, join(root, 'datasets', 'byhand', 'b.csv'));
  await waitFor(() => r.got.length === 2);
  expect(r.got.map((g) => g.body.name)).toEqual(['early/a.csv', 'byhand/b.csv']);
  expect(r.got[1]!.body.size).toBe('100000');
});

it('retries a delivery the function answered with an error, keeping the event id', async () => {
  const root = mkdtempSync(join(tmpdir(), 'droptune-buckets-'));
  const store = new FileObjectStore(root);
  mkdirSync(join(root, 'datasets'), { recursive: true });
  const r = await receiver(2);
  const events = new BucketEvents(store, 'datasets', r.url);
  await events.start();
  cleanup.push(() => events.stop(), r.close);
  await store.write('datasets', 'm1/x.csv', 'a');
  await waitFor(() => r.got.length === 1);
  expect(r.got[0]!.body.name).toBe('m1/x.csv');
  expect(r.ids).toHaveLength(3);
  expect(new Set(r.ids).size).toBe(1);
});
