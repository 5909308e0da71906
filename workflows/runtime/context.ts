import type { WfMap, WfValue } from './values.ts';

/**
 * Time source of an execution. Workflows polls and backs off in seconds to minutes; tests
 * swap in a `VirtualClock` so the same waits take milliseconds.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const t = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      const onAbort = (): void => {
        clearTimeout(t);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

/**
 * Virtual time: `sleep(ms)` advances `now()` by `ms` at once and then waits `ms * scale` real
 * milliseconds. `scale: 0` makes waits instant (pure logic tests); a small scale such as 0.001
 * lets real child processes (trainer, server) make progress while the workflow "waits" a minute.
 */
export class VirtualClock implements Clock {
  private t: number;
  private readonly scale: number;
  constructor(options: { start?: number; scale?: number } = {}) {
    this.t = options.start ?? Date.UTC(2026, 0, 1);
    this.scale = options.scale ?? 0;
  }
  now(): number {
    return this.t;
  }
  /** Moves time forward without waiting (used by tests and by backends simulating delays). */
  advance(ms: number): void {
    this.t += ms;
  }
  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.t += Math.max(0, ms);
    const real = ms * this.scale;
    if (real >= 1) await realClock.sleep(real, signal);
    else await new Promise<void>((r) => setImmediate(r));
  }
}

export interface LogEntry {
  severity: string;
  data: unknown;
  time: number;
}

/** Everything builtins and connectors need from the execution they run in. */
export interface ExecContext {
  /** What `sys.get_env` answers: the workflow's user env vars plus GOOGLE_CLOUD_* built-ins. */
  env: Readonly<Record<string, string>>;
  clock: Clock;
  log: (entry: LogEntry) => void;
  /**
   * Turns an `auth:` block of an HTTP call into request headers. In the cloud `auth: {type: OIDC}`
   * adds a Google-signed ID token; locally the stack supplies its API bearer token here.
   */
  authHeaders?: (auth: WfMap, url: string) => Promise<Record<string, string>> | Record<string, string>;
  /** Aborted when the execution is cancelled; long waits and HTTP calls stop with it. */
  signal: AbortSignal;
  /** Runs a subworkflow of this file with positional arguments (`${my_subworkflow(a, b)}`). */
  callSubworkflow?: (name: string, args: WfValue[]) => Promise<WfValue>;
}
