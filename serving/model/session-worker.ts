import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { AppError } from '../../shared/errors.ts';
import {
  type ClassifierSession,
  checkGraph,
  type EncodedBatch,
  FEEDS,
  type SessionOptions,
  sessionOptions,
} from './onnx-session.ts';

/**
 * onnxruntime-node's `session.run` is a synchronous native call (it only defers itself by one
 * `setImmediate`), so on the main thread it blocks the event loop for the whole run: no request
 * is read, parsed or tokenized meanwhile, and between runs one core idles while the event loop
 * catches up. Here the session lives in a worker thread; the main thread keeps serving HTTP and
 * forms the next batch while the current one runs. Token buffers are transferred, not copied.
 *
 * The worker's source is a string evaluated by `new Worker(..., { eval: true })`, so the bundled
 * service (one file, see serving/Dockerfile) needs no second entry point; it loads
 * onnxruntime-node from the path this module resolves.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const ort = require(workerData.ortPath);
const message = (err) => String((err && err.message) || err);
ort.InferenceSession.create(new Uint8Array(workerData.model, workerData.offset, workerData.length), workerData.options).then(
  (session) => {
    parentPort.postMessage({ type: 'ready', inputNames: session.inputNames, outputNames: session.outputNames });
    parentPort.on('message', (msg) => {
      if (msg.type === 'dispose') {
        session.release().then(() => parentPort.postMessage({ type: 'disposed' }));
        return;
      }
      // A bad tensor throws synchronously: inside then() it fails this run, not the worker.
      Promise.resolve().then(() => {
        const feeds = {};
        for (const name of Object.keys(msg.feeds)) feeds[name] = new ort.Tensor('int64', msg.feeds[name], msg.dims);
        return session.run(feeds, [msg.outputName]);
      }).then(
        (out) => {
          const t = out[msg.outputName];
          parentPort.postMessage({ type: 'result', id: msg.id, logits: new Float32Array(t.data), dims: t.dims });
        },
        (err) => parentPort.postMessage({ type: 'result', id: msg.id, error: message(err) }),
      );
    });
  },
  (err) => parentPort.postMessage({ type: 'failed', error: message(err) }),
);
`;

type FromWorker =
  | { type: 'ready'; inputNames: string[]; outputNames: string[] }
  | { type: 'failed'; error: string }
  | { type: 'result'; id: number; logits?: Float32Array; dims?: number[]; error?: string }
  | { type: 'disposed' };

interface Pending {
  resolve(out: { logits: Float32Array; numLabels: number }): void;
  reject(err: unknown): void;
}

/**
 * A `ClassifierSession` whose runs happen in a worker thread. Same checks and errors as
 * `createClassifierSession`; a worker that dies fails its pending runs and every later one with
 * `internal` (the process stays up and says why).
 */
export async function createWorkerClassifierSession(
  model: Uint8Array,
  options: SessionOptions,
): Promise<ClassifierSession> {
  // Hand the model bytes over without a copy when the buffer is the model's alone.
  const own = model.byteOffset === 0 && model.byteLength === model.buffer.byteLength;
  const bytes = own ? model : model.slice();
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: {
      ortPath: createRequire(import.meta.url).resolve('onnxruntime-node'),
      model: bytes.buffer,
      offset: bytes.byteOffset,
      length: bytes.byteLength,
      options: sessionOptions(options.threads),
    },
    transferList: [bytes.buffer as ArrayBuffer],
  });
  const pending = new Map<number, Pending>();
  let dead: AppError | undefined;
  let onDisposed: (() => void) | undefined;

  const graph = await new Promise<{ inputNames: string[]; outputNames: string[] }>((resolve, reject) => {
    const die = (why: string) => {
      dead = new AppError('internal', `the inference worker stopped: ${why}`);
      reject(dead);
      for (const p of pending.values()) p.reject(dead);
      pending.clear();
    };
    worker.on('error', (err) => die(err.message));
    worker.on('exit', (code) => {
      onDisposed?.();
      if (!dead) die(`exited with code ${code}`);
    });
    worker.on('message', (msg: FromWorker) => {
      if (msg.type === 'ready') resolve(msg);
      else if (msg.type === 'failed') {
        dead = new AppError('failed_precondition', `onnxruntime could not load the model: ${msg.error}`);
        reject(dead);
        void worker.terminate();
      } else if (msg.type === 'disposed') onDisposed?.();
      else settle(pending, msg);
    });
  });
  checkGraph(graph.inputNames, graph.outputNames, options);
  let nextId = 0;

  return {
    inputNames: graph.inputNames,
    run(batch: EncodedBatch) {
      if (dead) return Promise.reject(dead);
      const feeds: Record<string, BigInt64Array> = {};
      const transfer = new Set<ArrayBuffer>();
      for (const name of graph.inputNames) {
        const data = batch[FEEDS[name]!];
        feeds[name] = data;
        transfer.add(data.buffer as ArrayBuffer);
      }
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        worker.postMessage({ id, feeds, dims: [batch.size, batch.seqLen], outputName: options.outputName }, [
          ...transfer,
        ]);
      });
    },
    async dispose() {
      if (dead) return;
      dead = new AppError('unavailable', 'the inference session was released');
      const done = new Promise<void>((resolve) => {
        onDisposed = resolve;
      });
      worker.postMessage({ type: 'dispose' });
      await done;
      await worker.terminate();
    },
  };
}

function settle(pending: Map<number, Pending>, msg: Extract<FromWorker, { type: 'result' }>): void {
  const p = pending.get(msg.id);
  if (!p) return;
  pending.delete(msg.id);
  if (msg.error !== undefined || !msg.logits || !msg.dims) {
    p.reject(new AppError('internal', `onnxruntime failed: ${msg.error ?? 'no output'}`));
    return;
  }
  p.resolve({ logits: msg.logits, numLabels: Number(msg.dims[msg.dims.length - 1]) });
}
