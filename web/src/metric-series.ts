/**
 * Accumulates a run's metric points as they arrive (`GET /v1/runs/:runId/metrics?afterId=`),
 * keyed by metric name, so live charts only fetch what is new.
 */
import { api, type StoredMetric } from './api.ts';

/** Most pages fetched in one refresh; the rest come on the next one (keeps a refresh short). */
const MAX_PAGES = 50;

export class MetricSeries {
  afterId = 0;
  readonly byKey = new Map<string, { x: number[]; y: number[]; epoch: (number | null)[] }>();

  constructor(readonly runId: string) {}

  /** Fetches every point newer than the last one seen; returns how many arrived. */
  async refresh(signal?: AbortSignal): Promise<number> {
    let total = 0;
    for (let page = 0; page < MAX_PAGES; page++) {
      const points = await api.metrics(this.runId, this.afterId, signal);
      if (points.length === 0) break;
      this.add(points);
      total += points.length;
    }
    return total;
  }

  add(points: StoredMetric[]): void {
    for (const p of points) {
      let s = this.byKey.get(p.key);
      if (!s) {
        s = { x: [], y: [], epoch: [] };
        this.byKey.set(p.key, s);
      }
      s.x.push(p.step);
      s.y.push(p.value);
      s.epoch.push(p.epoch);
      if (p.id > this.afterId) this.afterId = p.id;
    }
  }

  /** Points of `key` against the step, or against the epoch (points without an epoch are left out). */
  series(key: string, by: 'step' | 'epoch' = 'step'): { x: number[]; y: number[] } {
    const s = this.byKey.get(key);
    if (!s) return { x: [], y: [] };
    if (by === 'step') return s;
    const x: number[] = [];
    const y: number[] = [];
    s.epoch.forEach((e, i) => {
      if (e !== null) {
        x.push(e);
        y.push(s.y[i]!);
      }
    });
    return { x, y };
  }

  /** Latest value of a key, or null. */
  latest(key: string): number | null {
    const s = this.byKey.get(key);
    return s?.y.length ? s.y[s.y.length - 1]! : null;
  }
}
