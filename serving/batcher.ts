import { AppError } from '../shared/errors.ts';

export interface BatcherOptions<I, O> {
  /** Most items per `run` call. */
  maxBatch: number;
  /** Longest the oldest queued item waits for company; 0 = run as soon as the runner is idle. */
  maxWaitMs: number;
  /** Most items waiting; a submit that would exceed it fails with `resource_exhausted` (429). */
  maxQueue: number;
  /** Processes one batch; must return exactly one output per input, in order. */
  run(items: I[]): Promise<O[]>;
  /** Called after every batch (metrics). */
  onBatch?(size: number, seconds: number): void;
}

interface Entry<O> {
  outputs: O[];
  remaining: number;
  failed: boolean;
  resolve(outputs: O[]): void;
  reject(err: unknown): void;
}

interface Slot<I, O> {
  item: I;
  entry: Entry<O>;
  index: number;
  enqueuedAt: number;
}

/**
 * Dynamic micro-batching: coalesces the items of concurrent requests into one `run` of up to
 * `maxBatch` items, one run at a time (the runner uses every core already). While a run is
 * busy new items queue up, so batches grow with load by themselves and a lone request never
 * waits; `maxWaitMs` can add a deliberate wait when the runner is idle. The queue is bounded:
 * past `maxQueue` items callers get a 429 with a Retry-After estimate instead of memory growth.
 */
export class MicroBatcher<I, O> {
  private readonly queue: Slot<I, O>[] = [];
  private head = 0;
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  /** Seconds per item, smoothed over recent batches, for Retry-After. */
  private secondsPerItem = 0.01;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly options: BatcherOptions<I, O>) {}

  /** Items waiting (not yet in a running batch). */
  get depth(): number {
    return this.queue.length - this.head;
  }

  /** Queues a request's items; resolves with their outputs in order once every item ran. */
  submit(items: I[]): Promise<O[]> {
    if (items.length === 0) return Promise.resolve([]);
    if (items.length > this.options.maxQueue) {
      return Promise.reject(
        new AppError(
          'invalid_argument',
          `instances: ${items.length} texts can never fit the queue of ${this.options.maxQueue}; send at most ${this.options.maxQueue}`,
          {
            details: { field: 'instances', limit: this.options.maxQueue },
          },
        ),
      );
    }
    if (this.depth + items.length > this.options.maxQueue) {
      const retryAfterSeconds = Math.max(1, Math.ceil(this.depth * this.secondsPerItem));
      return Promise.reject(
        new AppError(
          'resource_exhausted',
          `the server is at capacity (${this.depth} queued of ${this.options.maxQueue}); retry after ${retryAfterSeconds} s`,
          {
            details: { retryAfterSeconds },
          },
        ),
      );
    }
    return new Promise<O[]>((resolve, reject) => {
      const entry: Entry<O> = {
        outputs: new Array(items.length),
        remaining: items.length,
        failed: false,
        resolve,
        reject,
      };
      const now = performance.now();
      for (let i = 0; i < items.length; i++)
        this.queue.push({ item: items[i]!, entry, index: i, enqueuedAt: now });
      this.schedule();
    });
  }

  /** Resolves when nothing is queued or running (graceful shutdown). */
  whenIdle(): Promise<void> {
    if (!this.running && this.depth === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private schedule(): void {
    if (this.running || this.depth === 0) return;
    if (this.depth >= this.options.maxBatch) {
      this.clearTimers();
      void this.dispatch();
      return;
    }
    if (this.timer || this.immediate) return;
    const waited = performance.now() - this.queue[this.head]!.enqueuedAt;
    const wait = this.options.maxWaitMs - waited;
    // setImmediate lets requests already read from sockets in this loop turn join the batch.
    if (wait <= 0) this.immediate = setImmediate(() => this.fire());
    else this.timer = setTimeout(() => this.fire(), wait);
  }

  private fire(): void {
    this.clearTimers();
    void this.dispatch();
  }

  private clearTimers(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
  }

  private async dispatch(): Promise<void> {
    if (this.running || this.depth === 0) return;
    this.running = true;
    const end = Math.min(this.queue.length, this.head + this.options.maxBatch);
    const slots = this.queue.slice(this.head, end);
    this.head = end;
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    const started = performance.now();
    try {
      const outputs = await this.options.run(slots.map((s) => s.item));
      if (outputs.length !== slots.length)
        throw new Error(`batch runner returned ${outputs.length} outputs for ${slots.length} inputs`);
      for (let i = 0; i < slots.length; i++) {
        const { entry, index } = slots[i]!;
        if (entry.failed) continue;
        entry.outputs[index] = outputs[i]!;
        if (--entry.remaining === 0) entry.resolve(entry.outputs);
      }
    } catch (err) {
      for (const { entry } of slots) {
        if (entry.failed) continue;
        entry.failed = true;
        entry.reject(err);
      }
    } finally {
      const seconds = (performance.now() - started) / 1000;
      this.secondsPerItem = 0.8 * this.secondsPerItem + 0.2 * (seconds / slots.length);
      this.options.onBatch?.(slots.length, seconds);
      this.running = false;
      if (this.depth > 0) this.schedule();
      else {
        const waiters = this.idleWaiters.splice(0);
        for (const w of waiters) w();
      }
    }
  }
}
