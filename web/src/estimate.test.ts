import { describe, expect, it } from 'vitest';
import type { RunDetail } from './api.ts';
import { basisFrom, estimate } from './estimate.ts';
import { formatDuration, formatMetric } from './format.ts';
import { objectNameFor } from './pages/new-run/start-run.ts';

const run = (over: Partial<RunDetail>): RunDetail =>
  ({
    runId: 'r-1',
    modelName: 'm',
    status: 'succeeded',
    params: { maxLength: 128 },
    metrics: { train_samples_per_second: 100 },
    costEstimate: null,
    startedAt: null,
    finishedAt: null,
    ...over,
  }) as RunDetail;

describe('estimate', () => {
  it('uses defaults without history and says so', () => {
    const b = basisFrom('local', []);
    expect(b.source).toBe('defaults');
    const e = estimate({ rows: 1000, epochs: 3, maxLength: 128, validationFraction: 0.1 }, b);
    // 900 training rows × 3 epochs at 40/s, plus 100 evaluated rows, plus 30 s of overhead.
    expect(e.seconds).toBeCloseTo(30 + 2700 / 40 + 100 / 40, 5);
    expect(e.usd).toBeNull();
  });

  it('learns speed from succeeded runs (normalised to 128 tokens) and price per hour in the cloud', () => {
    const b = basisFrom('cloud', [
      run({
        params: { maxLength: 256 },
        metrics: { train_samples_per_second: 50 },
        costEstimate: 0.5,
        startedAt: '2026-01-01T00:00:00Z',
        finishedAt: '2026-01-01T01:00:00Z',
      }),
      run({ status: 'failed', metrics: { train_samples_per_second: 1 } }),
    ]);
    expect(b).toMatchObject({ source: 'history', samplesPerSecond: 100, usdPerHour: 0.5 });
    const short = estimate({ rows: 1000, epochs: 1, maxLength: 128, validationFraction: 0.1 }, b);
    const long = estimate({ rows: 1000, epochs: 1, maxLength: 512, validationFraction: 0.1 }, b);
    expect(long.seconds - b.overheadSeconds).toBeCloseTo(4 * (short.seconds - b.overheadSeconds), 5);
    expect(short.usd).toBeCloseTo((short.seconds / 3600) * 0.5, 8);
  });
});

describe('formatting', () => {
  it('shows rates as percentages and other metrics with 4 significant digits', () => {
    expect(formatMetric('val_accuracy', 0.8512)).toBe('85.1%');
    expect(formatMetric('val_loss', 0.123456)).toBe('0.1235');
    expect(formatMetric('accuracy', null)).toBe('—');
    expect(formatDuration(3_725_000)).toBe('1h 02m');
    expect(formatDuration(65_000)).toBe('1m 05s');
  });

  it('names uploads uniquely but recognisably, with only characters the upload route accepts', () => {
    const at = new Date('2026-11-22T18:15:00Z');
    expect(objectNameFor('tickets.csv', at)).toBe('tickets-20261122-181500.csv');
    expect(objectNameFor('Support Tickets (v2).CSV', at)).toBe('Support-Tickets-v2-20261122-181500.csv');
    expect(objectNameFor('..csv', at)).toBe('data-20261122-181500.csv');
    for (const n of ['a b.csv', 'ünïcode.csv', '--x--.csv']) {
      expect(objectNameFor(n, at)).toMatch(/^[A-Za-z0-9][A-Za-z0-9._-]{0,195}\.csv$/i);
    }
  });
});
