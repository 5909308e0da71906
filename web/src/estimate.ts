/**
 * A rough time (and, in the cloud, cost) estimate shown before a run starts. It uses the
 * throughput and cost of this installation's recent successful runs when there are any
 * (`train_samples_per_second`, `costEstimate`), else conservative defaults, and says which.
 */
import type { RunDetail } from './api.ts';

export interface EstimateInput {
  rows: number;
  epochs: number;
  maxLength: number;
  validationFraction: number;
}

export interface Basis {
  mode: 'local' | 'cloud';
  /** Training samples per second at maxLength 128. */
  samplesPerSecond: number;
  /** USD per hour of a training machine (cloud only). */
  usdPerHour: number | null;
  /** Seconds spent outside training (machine start, export, registration). */
  overheadSeconds: number;
  source: 'history' | 'defaults';
}

/** Defaults: a CPU laptop trains a MiniLM-sized model at ~40 samples/s; an L4/T4 spot VM at ~400, for ~$0.25/h. */
const DEFAULTS = {
  local: { samplesPerSecond: 40, usdPerHour: null, overheadSeconds: 30 },
  cloud: { samplesPerSecond: 400, usdPerHour: 0.25, overheadSeconds: 240 },
} as const;

export function basisFrom(mode: 'local' | 'cloud', history: RunDetail[]): Basis {
  const done = history.filter(
    (r) => r.status === 'succeeded' && (r.metrics?.train_samples_per_second ?? 0) > 0,
  );
  if (done.length === 0) return { mode, ...DEFAULTS[mode], source: 'defaults' };
  const rates = done.map((r) => {
    const len = Number(r.params?.maxLength ?? 128);
    return r.metrics!.train_samples_per_second! * (len / 128);
  });
  const samplesPerSecond = rates.sort((a, b) => a - b)[Math.floor(rates.length / 2)]!;
  let usdPerHour: number | null = DEFAULTS[mode].usdPerHour;
  const costed = done.filter((r) => r.costEstimate && r.startedAt && r.finishedAt);
  if (mode === 'cloud' && costed.length) {
    const hours = costed.reduce(
      (s, r) => s + (new Date(r.finishedAt!).getTime() - new Date(r.startedAt!).getTime()) / 3.6e6,
      0,
    );
    const usd = costed.reduce((s, r) => s + r.costEstimate!, 0);
    if (hours > 0) usdPerHour = usd / hours;
  }
  return {
    mode,
    samplesPerSecond,
    usdPerHour,
    overheadSeconds: DEFAULTS[mode].overheadSeconds,
    source: 'history',
  };
}

export function estimate(input: EstimateInput, basis: Basis): { seconds: number; usd: number | null } {
  const trainRows = Math.max(1, Math.round(input.rows * (1 - input.validationFraction)));
  // Attention cost grows a bit faster than linearly with length; linear is close enough below 512.
  const rate = basis.samplesPerSecond * (128 / Math.max(8, input.maxLength));
  const seconds = basis.overheadSeconds + (trainRows * input.epochs) / rate + (input.rows * 0.1) / rate;
  const usd = basis.usdPerHour === null ? null : (seconds / 3600) * basis.usdPerHour;
  return { seconds, usd };
}
