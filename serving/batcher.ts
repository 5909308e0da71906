import { AppError } from '../shared/errors.ts';

export interface BatcherOptions<I, O> {
  /** Most items per `run` call. */
  maxBatch: number;
  /** Longest the oldest queued item waits for company; 0 = run as soon as the runner is idle. */
  maxWaitMs: number;
  /** Most items waiting; a submit that would exceed it fails with `resource_exhausted` (429). */
  maxQueue: number;
  /**
   * Processes one batch; must return exactly one output per input, in order. It may hand an
   * output over early with `emit(index, output)` (a short text's group finished before a long
   * one's), so a request whose items are all done is answered without waiting for the batch.
   */
  run(items: I[], emit: (index: number, output: O) => void): Promise<O[]>;
  /** Called after every batch (metrics). */
  onBatch?(size: number, seconds: number): void;
  /** Where `maxWaitMs` waits are scheduled; tests pass a recording one. Default: `setTimeout`. */
  timers?: BatchTimers;
}

/** The one way the batcher waits: a cancellable timeout (only used when `maxWaitMs` > 0). */
export interface BatchTimers {
  setTimeout(fn: () => void, ms: number): { cancel(): void };
}

const realTimers: BatchTimers = {
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(t) };
  },
};

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
  delivered?: boolean;
}

function deliver<I, O>(slot: Slot<I, O>, output: O): void {
  const { entry, index } = slot;
  if (slot.delivered || entry.failed) return;
  slot.delivered = true;
  entry.outputs[index] = output;
  if (--entry.remaining === 0) entry.resolve(entry.outputs);
}

/**
 * Continuous batching: one `run` at a time (the runner uses every core already). An item
 * submitted while the runner is idle is dispatched at once, inside `submit`, with no timer and
 * no extra event-loop turn, so a lone request pays nothing for batching. Items submitted while
 * a run is busy queue up and form the next batch (up to `maxBatch`) the moment it ends, so
 * batches grow with load by themselves. `maxWaitMs` > 0 instead holds an idle runner back for
 * company (a deliberate trade of latency for batch size). The queue is bounded: past `maxQueue`
 * items callers get a 429 with a Retry-After estimate instead of memory growth.
 */
export class MicroBatcher<I, O> {
  private readonly queue: Slot<I, O>[] = [];
  private head = 0;
  private running = false;
  private timer: { cancel(): void } | undefined;
  private readonly timers: BatchTimers;
  /** Seconds per item, smoothed over recent batches, for Retry-After. */
  private secondsPerItem = 0.01;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly options: BatcherOptions<I, O>) {
    this.timers = options.timers ?? realTimers;
  }

  /** Items waiting (not yet in a running batch). */
  get depth(): number {
    return this.queue.length - this.head;
  }

  /**
   * Throws the error `submit` would give for `count` items right now (400 when they can never
   * fit, 429 when the queue is full), so callers can refuse before doing per-item work such as
   * tokenizing: an overloaded server must answer 429 in microseconds, not after the work.
   */
  checkCapacity(count: number): void {
    if (count > this.options.maxQueue) {
      throw new AppError(
        'invalid_argument',
        `instances: ${count} texts can never fit the queue of ${this.options.maxQueue}; send at most ${this.options.maxQueue}`,
        { details: { field: 'instances', limit: this.options.maxQueue } },
      );
    }
    if (this.depth + count > this.options.maxQueue) {
      const retryAfterSeconds = Math.max(1, Math.ceil(this.depth * this.secondsPerItem));
      throw new AppError(
        'resource_exhausted',
        `the server is at capacity (${this.depth} queued of ${this.options.maxQueue}); retry after ${retryAfterSeconds} s`,
        { details: { retryAfterSeconds } },
      );
    }
  }

  /** Queues a request's items; resolves with their outputs in order once every item ran. */
  submit(items: I[]): Promise<O[]> {
    if (items.length === 0) return Promise.resolve([]);
    try {
      this.checkCapacity(items.length);
    } catch (err) {
      return Promise.reject(err);
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
    const waited = performance.now() - this.queue[this.head]!.enqueuedAt;
    const wait = this.options.maxWaitMs - waited;
    if (this.depth >= this.options.maxBatch || wait <= 0) {
      this.clearTimer();
      void this.dispatch();
      return;
    }
    this.timer ??= this.timers.setTimeout(() => {
      this.timer = undefined;
      void this.dispatch();
    }, wait);
  }

  private clearTimer(): void {
    this.timer?.cancel();
    this.timer = undefined;
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
      const outputs = await this.options.run(
        slots.map((s) => s.item),
        (i, output) => deliver(slots[i]!, output),
      );
      if (outputs.length !== slots.length)
        throw new Error(`batch runner returned ${outputs.length} outputs for ${slots.length} inputs`);
      for (let i = 0; i < slots.length; i++) deliver(slots[i]!, outputs[i]!);
    } catch (err) {
      for (const { entry } of slots) {
        if (entry.failed || entry.remaining === 0) continue;
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
