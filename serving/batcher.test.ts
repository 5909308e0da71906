import { describe, expect, it } from 'vitest';
import { isAppError } from '../shared/errors.ts';
import { MicroBatcher } from './batcher.ts';

/** A runner that records batch sizes and answers after a real macrotask, like session.run. */
function recordingRunner() {
  const batches: number[][] = [];
  return {
    batches,
    run: async (items: number[]) => {
      batches.push(items);
      await new Promise((r) => setTimeout(r, 5));
      return items.map((x) => x * 10);
    },
  };
}

/** Timers that record each requested wait and fire only when told: no test waits on a clock. */
function countingTimers() {
  const pending = new Set<() => void>();
  const waits: number[] = [];
  return {
    waits,
    setTimeout(fn: () => void, ms: number) {
      waits.push(ms);
      pending.add(fn);
      return { cancel: () => pending.delete(fn) };
    },
    fireAll() {
      for (const fn of [...pending]) {
        pending.delete(fn);
        fn();
      }
    },
  };
}

describe('MicroBatcher', () => {
  it('runs a lone request at once, inside submit, without any timer or extra event-loop turn', () => {
    const r = recordingRunner();
    const timers = countingTimers();
    const b = new MicroBatcher({ maxBatch: 32, maxWaitMs: 0, maxQueue: 100, run: r.run, timers });
    void b.submit([7]);
    // Synchronously after submit returned: the run has started and nothing waits on a timer.
    expect(r.batches).toEqual([[7]]);
    expect(timers.waits).toEqual([]);
  });

  it('batches continuously: requests arriving while a run is busy form the next batch, in order', async () => {
    const r = recordingRunner();
    const timers = countingTimers();
    const b = new MicroBatcher({ maxBatch: 32, maxWaitMs: 0, maxQueue: 100, run: r.run, timers });
    const answers = await Promise.all([b.submit([1, 2]), b.submit([3]), b.submit([4, 5, 6])]);
    expect(answers).toEqual([[10, 20], [30], [40, 50, 60]]);
    expect(r.batches).toEqual([
      [1, 2],
      [3, 4, 5, 6],
    ]);
    expect(timers.waits).toEqual([]);
  });

  it('never runs more than maxBatch items at once and splits a request across runs when needed', async () => {
    const r = recordingRunner();
    const b = new MicroBatcher({ maxBatch: 4, maxWaitMs: 0, maxQueue: 100, run: r.run });
    const answers = await Promise.all([b.submit([1, 2, 3]), b.submit([4, 5, 6]), b.submit([7])]);
    expect(answers).toEqual([[10, 20, 30], [40, 50, 60], [70]]);
    expect(r.batches.map((x) => x.length)).toEqual([3, 4]);
  });

  it('runs one batch at a time; items arriving meanwhile form the next batch', async () => {
    const r = recordingRunner();
    let running = 0;
    let maxRunning = 0;
    const b = new MicroBatcher({
      maxBatch: 8,
      maxWaitMs: 0,
      maxQueue: 100,
      run: async (items: number[]) => {
        maxRunning = Math.max(maxRunning, ++running);
        const out = await r.run(items);
        running--;
        return out;
      },
    });
    const first = b.submit([1]);
    await new Promise((resolve) => setImmediate(resolve)); // first batch starts alone
    const later = [b.submit([2]), b.submit([3])];
    await Promise.all([first, ...later]);
    expect(maxRunning).toBe(1);
    expect(r.batches).toEqual([[1], [2, 3]]);
  });

  it('waits up to maxWaitMs for company when configured, on one timer', async () => {
    const r = recordingRunner();
    const timers = countingTimers();
    const b = new MicroBatcher({ maxBatch: 8, maxWaitMs: 30, maxQueue: 100, run: r.run, timers });
    const first = b.submit([1]);
    const second = b.submit([2]);
    expect(r.batches).toEqual([]);
    expect(timers.waits).toHaveLength(1);
    expect(timers.waits[0]).toBeGreaterThan(0);
    expect(timers.waits[0]).toBeLessThanOrEqual(30);
    timers.fireAll();
    await Promise.all([first, second]);
    expect(r.batches).toEqual([[1, 2]]);
  });

  it('does not wait for company once a full batch is queued', () => {
    const r = recordingRunner();
    const timers = countingTimers();
    const b = new MicroBatcher({ maxBatch: 2, maxWaitMs: 1000, maxQueue: 100, run: r.run, timers });
    void b.submit([1]);
    void b.submit([2]);
    expect(r.batches).toEqual([[1, 2]]);
  });

  it('refuses with resource_exhausted and a Retry-After estimate once the queue is full', async () => {
    const r = recordingRunner();
    const b = new MicroBatcher({ maxBatch: 2, maxWaitMs: 0, maxQueue: 4, run: r.run });
    // [1, 2] start running at once; [3, 4, 5, 6] then fill the queue of 4.
    const accepted = [b.submit([1, 2]), b.submit([3, 4, 5, 6])];
    expect(b.depth).toBe(4);
    const refused = await b.submit([7]).catch((e: unknown) => e);
    expect(isAppError(refused, 'resource_exhausted')).toBe(true);
    expect(
      (refused as { details: { retryAfterSeconds: number } }).details.retryAfterSeconds,
    ).toBeGreaterThanOrEqual(1);
    await Promise.all(accepted);
    expect(await b.submit([6])).toEqual([60]); // recovered
  });

  it('fails every request of a batch whose run throws, and keeps serving afterwards', async () => {
    let fail = true;
    const b = new MicroBatcher({
      maxBatch: 8,
      maxWaitMs: 0,
      maxQueue: 100,
      run: async (items: number[]) => {
        if (fail) throw new Error('boom');
        return items;
      },
    });
    const results = await Promise.allSettled([b.submit([1]), b.submit([2])]);
    expect(results.map((x) => x.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    expect(await b.submit([3])).toEqual([3]);
  });

  it('answers a request as soon as the runner emits its outputs, before the rest of the batch', async () => {
    let finishBatch: (() => void) | undefined;
    const b = new MicroBatcher<number, number>({
      maxBatch: 8,
      maxWaitMs: 0,
      maxQueue: 100,
      run: async (items, emit) => {
        emit(0, items[0]! * 10); // the short group is done
        await new Promise<void>((r) => {
          finishBatch = r;
        });
        return items.map((x) => x * 10);
      },
    });
    const [first, second] = [b.submit([1]), b.submit([2])];
    expect(await first).toEqual([10]); // answered while its batch is still running
    expect(b.depth).toBe(1);
    finishBatch!();
    // [2] formed the next batch; its output is emitted at once too.
    expect(await second).toEqual([20]);
    finishBatch!();
    await b.whenIdle();
  });

  it('whenIdle resolves only after queued and running work is done', async () => {
    const r = recordingRunner();
    const b = new MicroBatcher({ maxBatch: 1, maxWaitMs: 0, maxQueue: 100, run: r.run });
    let answered = 0;
    for (let i = 0; i < 5; i++) void b.submit([i]).then(() => answered++);
    await b.whenIdle();
    expect(answered).toBe(5);
    expect(b.depth).toBe(0);
  });
});
