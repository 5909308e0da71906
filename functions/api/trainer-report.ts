import type { RunGate, RunSplit } from '../../shared/contracts/run.ts';
import type { ObjectStore } from '../../shared/storage/index.ts';
import type { Run } from '../../shared/store/index.ts';

/**
 * The trainer's `metrics.json` for a run: the registered version's copy first (run outputs may
 * be cleaned up), else the run's own output; null until the trainer wrote it. One reader for
 * the evaluation route and the run detail's `split` and `gate`.
 */
export async function readTrainerMetrics(
  objects: ObjectStore,
  modelsBucket: string,
  run: Pick<Run, 'runId' | 'modelName' | 'version'>,
): Promise<TrainerMetricsFile | null> {
  const candidates = [
    ...(run.version ? [`models/${run.modelName}/v${run.version}/metrics.json`] : []),
    `runs/${run.runId}/metrics.json`,
  ];
  for (const name of candidates) {
    if (!(await objects.statIfExists(modelsBucket, name))) continue;
    return JSON.parse((await objects.read(modelsBucket, name)).toString('utf8')) as TrainerMetricsFile;
  }
  return null;
}

/** The parts of metrics.json (training-image/droptune_trainer/run.py) the API reads. */
export interface TrainerMetricsFile {
  validation?: {
    labels?: string[];
    per_class?: Record<string, { precision: number; recall: number; f1: number; support: number }>;
    confusion_matrix?: number[][];
  };
  split?: RunSplit;
  gate?: RunGate;
}

export type { RunGate, RunSplit };

/** `split` and `gate` as the run detail contract gives them (null until known). */
export function splitAndGate(file: TrainerMetricsFile | null): {
  split: RunSplit | null;
  gate: RunGate | null;
} {
  const s = file?.split;
  const g = file?.gate;
  return {
    split: s
      ? {
          method: s.method,
          trainRows: s.trainRows,
          validationRows: s.validationRows,
          duplicates: s.duplicates,
          conflicts: s.conflicts,
          truncated: s.truncated,
          fingerprint: s.fingerprint,
        }
      : null,
    gate: g
      ? {
          metric: g.metric,
          challenger: g.challenger,
          champion: g.champion,
          rows: g.rows,
          decision: g.decision,
          reason: g.reason,
          ...(g.ci95 ? { ci95: g.ci95 } : {}),
        }
      : null,
  };
}
