import { describe, expect, it } from 'vitest';
import { describeZodError, ModelSettings } from './model-settings.ts';

describe('droptune.json settings', () => {
  it('checks the chunk stride against maxLength only when texts are chunked', () => {
    // A short maxLength with the default stride (32) is a valid truncate-mode file.
    expect(ModelSettings.safeParse({ maxLength: 64 }).success).toBe(true);
    const chunked = ModelSettings.safeParse({ maxLength: 64, longText: 'chunk' });
    expect(chunked.success).toBe(false);
    expect(describeZodError(chunked.error!)).toMatch(/^chunkStride: must be less than half of maxLength/);
    expect(ModelSettings.safeParse({ maxLength: 64, longText: 'chunk', chunkStride: 16 }).success).toBe(true);
  });

  it('leaves the task and the metrics that depend on it unset unless chosen', () => {
    const s = ModelSettings.parse({});
    expect([s.task, s.gate.metric, s.earlyStoppingMetric]).toEqual([undefined, undefined, undefined]);
    expect(ModelSettings.safeParse({ task: 'ranking' }).success).toBe(false);
  });
});
