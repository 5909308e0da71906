import { randomUUID } from 'node:crypto';
import { relative, sep } from 'node:path';
import { type FSWatcher, watch } from 'chokidar';
import type { FileObjectStore, ObjectStore } from '../../shared/storage/index.ts';

/** The CloudEvent type GCS emits when an object is written (Eventarc direct event). */
export const FINALIZED = 'google.cloud.storage.object.v1.finalized';

/** The `data` of a storage CloudEvent: the object's metadata, as GCS sends it (StorageObjectData). */
export interface StorageObjectData {
  bucket: string;
  name: string;
  generation: string;
  size: string;
  contentType: string;
  timeCreated: string;
  updated: string;
}

/**
 * The local twin of Eventarc for one bucket: every object that appears or changes in
 * `<buckets>/<bucket>/` becomes the same `google.cloud.storage.object.v1.finalized` CloudEvent
 * GCS would send, POSTed in binary content mode to `target` (the functions-framework server
 * hosting `onDatasetUploaded`). Non-2xx answers are retried with back-off, as Eventarc does,
 * which is safe because the handler dedupes on (bucket, object, generation). Objects already
 * there at start are delivered too, so drops made while the stack was down are not lost.
 */
export class BucketEvents {
  private watcher: FSWatcher | undefined;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly store: FileObjectStore,
    private readonly bucket: string,
    private readonly target: string,
    private readonly options: { maxAttempts?: number; log?: (msg: string) => void } = {},
  ) {}

  async start(): Promise<void> {
    const dir = this.store.pathOf(this.bucket, 'x').slice(0, -2);
    this.watcher = watch(dir, {
      ignoreInitial: false,
      // A file copied in by hand is written progressively; wait until its size settles.
      awaitWriteFinish: { stabilityThreshold: 300, pollInterval: 50 },
    });
    const onFile = (path: string) => {
      const name = relative(dir, path).split(sep).join('/');
      const p = this.deliver(name).finally(() => this.inFlight.delete(p));
      this.inFlight.add(p);
    };
    this.watcher.on('add', onFile).on('change', onFile);
    await new Promise<void>((resolve) => this.watcher!.once('ready', () => resolve()));
  }

  async stop(): Promise<void> {
    await this.watcher?.close();
    await Promise.allSettled([...this.inFlight]);
  }

  /** Builds and POSTs the event for one object, retrying until a 2xx. */
  deliver(name: string): Promise<void> {
    return deliverFinalized(this.store, this.bucket, name, this.target, this.options);
  }
}

/**
 * What GCS + Eventarc do once an object is finalized: build its CloudEvent from the object's
 * metadata and POST it to `target`, retrying until a 2xx. Any ObjectStore: the rehearsal's
 * `gs://` buckets on fake-gcs-server (which emits no events) deliver through here too.
 */
export async function deliverFinalized(
  store: Pick<ObjectStore, 'statIfExists'>,
  bucket: string,
  name: string,
  target: string,
  options: { maxAttempts?: number; log?: (msg: string) => void } = {},
): Promise<void> {
  const stat = await store.statIfExists(bucket, name).catch(() => undefined);
  if (!stat) return; // vanished, or a name no bucket can hold: GCS would not emit either
  const data: StorageObjectData = {
    bucket: bucket,
    name,
    generation: stat.generation,
    size: String(stat.size),
    contentType: name.endsWith('.csv') ? 'text/csv' : 'application/octet-stream',
    timeCreated: stat.updated.toISOString(),
    updated: stat.updated.toISOString(),
  };
  const id = randomUUID();
  const maxAttempts = options.maxAttempts ?? 8;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    try {
      const res = await fetch(target, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'ce-specversion': '1.0',
          'ce-id': id,
          'ce-type': FINALIZED,
          'ce-source': `//storage.googleapis.com/projects/_/buckets/${bucket}`,
          'ce-subject': `objects/${name}`,
          'ce-time': data.updated,
        },
        body: JSON.stringify(data),
      });
      await res.arrayBuffer();
      if (res.ok) return;
      options.log?.(`event for ${name} answered ${res.status}; retrying (${attempt}/${maxAttempts})`);
    } catch (err) {
      options.log?.(
        `event for ${name} not delivered (${(err as Error).message}); retrying (${attempt}/${maxAttempts})`,
      );
    }
    await new Promise((r) => setTimeout(r, Math.min(200 * 2 ** attempt, 10_000)));
  }
  options.log?.(`gave up delivering the event for ${name} after ${maxAttempts} attempts`);
}
