import { describe, expect, it } from 'vitest';
import { readServingConfig } from './config.ts';
import { availableCpus } from './model/cpus.ts';

describe('readServingConfig', () => {
  it('applies the documented defaults', () => {
    const c = readServingConfig({ MODEL_URI: 'gs://b/models/m/v1/' });
    expect(c).toMatchObject({
      port: 8080,
      variant: 'fp32',
      maxBatch: 32,
      maxWaitMs: 0,
      maxQueue: 512,
      maxBodyBytes: 1048576,
      maxInstances: 64,
    });
  });

  it('names the variable at fault', () => {
    expect(() => readServingConfig({ MODEL_URI: 'x', MODEL_VARIANT: 'int4' })).toThrow(/^MODEL_VARIANT: /);
    expect(() => readServingConfig({ MODEL_URI: 'x', DROPTUNE_SERVE_MAX_BATCH: '0' })).toThrow(
      /^DROPTUNE_SERVE_MAX_BATCH: /,
    );
    expect(() => readServingConfig({})).toThrow('MODEL_URI: MODEL_URI is required');
  });
});

describe('availableCpus', () => {
  const files = (map: Record<string, string>) => (p: string) => {
    if (p in map) return map[p]!;
    throw new Error('ENOENT');
  };
  it('honours a cgroup v2 quota below the core count', () => {
    expect(availableCpus(files({ '/sys/fs/cgroup/cpu.max': '100000 100000' }))).toBe(1);
  });
  it('rounds a fractional quota up and ignores "max"', () => {
    expect(availableCpus(files({ '/sys/fs/cgroup/cpu.max': '50000 100000' }))).toBe(1);
    expect(availableCpus(files({ '/sys/fs/cgroup/cpu.max': 'max 100000' }))).toBeGreaterThanOrEqual(1);
  });
  it('reads a cgroup v1 quota', () => {
    expect(
      availableCpus(
        files({
          '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '100000',
          '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000',
        }),
      ),
    ).toBe(1);
  });
});
