import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { METRIC_DIRECTIONS, TASK_METRICS, TASKS } from '../shared/contracts/task.ts';
import { runSnippet } from './runtime/test-support/run-snippet.ts';

// pipeline.yaml's quality_gate subworkflow, run alone on the local Workflows runtime: the gate per
// task (shared/contracts/task.ts), its absolute minimums and maxRegression in the metric's
// direction. The full pipeline tests (pipeline.*.test.ts) run it with a real trainer.
const pipeline = parse(readFileSync(new URL('./pipeline.yaml', import.meta.url), 'utf8'));
const SOURCE = stringify({
  main: {
    params: ['args'],
    steps: [
      {
        gate: {
          call: 'quality_gate',
          args: {
            cfg: '${args.cfg}',
            params: '${args.params}',
            metrics: '${args.metrics}',
            champion: '${args.champion}',
          },
          result: 'verdict',
        },
      },
      { done: { return: '${verdict}' } },
    ],
  },
  quality_gate: pipeline.quality_gate,
});

const CFG = { gateMinAccuracy: 0.6, gateMinMacroF1: 0, gateMaxRegression: 0.01 };

interface Verdict {
  promote: boolean;
  reason: string;
  metric: string;
  direction: string;
  task: string;
}

async function gate(params: Record<string, unknown>, metrics: Record<string, unknown>, champion = {}) {
  const out = await runSnippet(SOURCE, { cfg: CFG, params, metrics, champion });
  if (!('result' in out)) throw new Error(JSON.stringify(out));
  return out.result as Verdict;
}

describe('the quality gate per task', () => {
  it('mirrors the contract: each task’s default metric and each metric’s direction', () => {
    const settings = pipeline.quality_gate.steps[0].settings.assign as Record<string, unknown>[];
    const find = (name: string) => settings.find((a) => name in a)![name];
    expect(find('defaultMetrics')).toEqual(Object.fromEntries(TASKS.map((t) => [t, TASK_METRICS[t][0]])));
    const lower = Object.entries(METRIC_DIRECTIONS)
      .filter(([, d]) => d === 'lower')
      .map(([m]) => m);
    expect(find('lowerIsBetter')).toEqual(lower);
  });

  it('classification (no task in params): minAccuracy, then minMacroF1, on macro_f1 by default', async () => {
    const good = { accuracy: 0.9, macro_f1: 0.88 };
    expect(await gate({}, good)).toMatchObject({ promote: true, task: 'classification', metric: 'macro_f1' });
    expect((await gate({}, { ...good, accuracy: 0.5 })).reason).toBe(
      'gate: accuracy 0.5 is below gate.minAccuracy 0.6',
    );
    const v = await gate({ gate: { minMacroF1: 0.9 } }, good);
    expect(v).toMatchObject({ promote: false, reason: 'gate: macro_f1 0.88 is below gate.minMacroF1 0.9' });
  });

  it('pair: the same minimums as classification', async () => {
    const v = await gate({ task: 'pair', gate: { minAccuracy: 0.95 } }, { accuracy: 0.9, macro_f1: 0.9 });
    expect(v).toMatchObject({
      promote: false,
      task: 'pair',
      reason: 'gate: accuracy 0.9 is below gate.minAccuracy 0.95',
    });
    expect((await gate({ task: 'pair' }, { accuracy: 0.9, macro_f1: 0.9 })).reason).toBe(
      'gate passed (pair): macro_f1 0.9, accuracy 0.9 >= 0.6, macro_f1 0.9 >= 0.0',
    );
  });

  it('multilabel: micro_f1 by default, minMacroF1 applies, minAccuracy does not', async () => {
    const metrics = { micro_f1: 0.8, macro_f1: 0.7 };
    const ok = await gate({ task: 'multilabel', gate: { minAccuracy: 0.99 } }, metrics);
    expect(ok).toMatchObject({
      promote: true,
      metric: 'micro_f1',
      reason: 'gate passed (multilabel): micro_f1 0.8, macro_f1 0.7 >= 0.0',
    });
    const low = await gate({ task: 'multilabel', gate: { minMacroF1: 0.75 } }, metrics);
    expect(low).toMatchObject({ promote: false, reason: 'gate: macro_f1 0.7 is below gate.minMacroF1 0.75' });
  });

  it('regression: rmse by default (lower is better), minR2 when set, no class minimums', async () => {
    const metrics = { rmse: 0.5, mae: 0.4, r2: 0.6, spearman: 0.7 };
    const ok = await gate({ task: 'regression', gate: { minAccuracy: 0.99, minMacroF1: 0.99 } }, metrics);
    expect(ok).toMatchObject({
      promote: true,
      metric: 'rmse',
      direction: 'lower',
      reason: 'gate passed (regression): rmse 0.5',
    });
    const low = await gate({ task: 'regression', gate: { minR2: 0.7 } }, metrics);
    expect(low).toMatchObject({ promote: false, reason: 'gate: r2 0.6 is below gate.minR2 0.7' });
    expect((await gate({ task: 'regression', gate: { minR2: 0.5 } }, metrics)).reason).toBe(
      'gate passed (regression): rmse 0.5, r2 0.6 >= 0.5',
    );
  });

  it('maxRegression in the gate metric’s worse direction: a higher rmse, a lower F1', async () => {
    const champion = { version: 3 };
    const rmse = (challenger: number) => ({ rmse: challenger, champion_rmse: 0.5, r2: 0.5 });
    const worse = await gate({ task: 'regression', gate: { maxRegression: 0.05 } }, rmse(0.6), champion);
    expect(worse).toMatchObject({
      promote: false,
      reason:
        'gate: challenger rmse 0.6 is worse (higher) than champion v3 0.5 by more than gate.maxRegression 0.05',
    });
    // A lower RMSE is better: far below the champion's passes.
    expect((await gate({ task: 'regression' }, rmse(0.2), champion)).promote).toBe(true);
    expect(
      (await gate({ task: 'regression', gate: { maxRegression: 0.2 } }, rmse(0.6), champion)).promote,
    ).toBe(true);
    const f1 = { micro_f1: 0.6, champion_micro_f1: 0.7, macro_f1: 0.6 };
    expect(await gate({ task: 'multilabel' }, f1, champion)).toMatchObject({
      promote: false,
      reason:
        'gate: challenger micro_f1 0.6 is worse than champion v3 0.7 by more than gate.maxRegression 0.01',
    });
  });

  it('gate.metric overrides the task default, with its own direction', async () => {
    const metrics = { rmse: 0.5, mae: 0.9, champion_mae: 0.3, r2: 0.5 };
    const v = await gate({ task: 'regression', gate: { metric: 'mae' } }, metrics, { version: 1 });
    expect(v).toMatchObject({ promote: false, metric: 'mae', direction: 'lower' });
    const s = await gate({ task: 'regression', gate: { metric: 'spearman' } }, { spearman: 0.8, r2: 0.5 });
    expect(s).toMatchObject({ promote: true, metric: 'spearman', direction: 'higher' });
  });

  it('holds when a metric the task’s gate reads is missing, listing what the trainer wrote', async () => {
    const v = await gate({ task: 'regression', gate: { minR2: 0.1 } }, { rmse: 0.5 });
    expect(v.promote).toBe(false);
    expect(v.reason).toMatch(
      /^gate: rmse or a metric the regression gate's minimums read .* is missing from the trainer metrics \(\["rmse"\]\)$/,
    );
  });
});
