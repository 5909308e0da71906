import type { Command } from 'commander';
import { ApiClient, type RunDetail } from '../api-client.ts';
import { colorStatus, emit, fail, type GlobalOptions, table } from '../output.ts';

/** The `run <id>` / `runs` JSON shape (DESIGN.md CLI contract): at least runId, modelName, status, error, metrics. */
export function runSummary(run: RunDetail): Record<string, unknown> {
  return { ...run, metrics: run.metrics ?? {} };
}

interface GateView {
  metric: string;
  challenger: number;
  champion: number | null;
  rows: number;
  decision: string;
  reason: string;
}
interface SplitView {
  method: string;
  trainRows: number;
  validationRows: number;
  duplicates: number;
  conflicts: number;
  truncated: number;
}

/** `promote: macro_f1 0.912 vs champion 0.897 on 180 rows — <reason>` (the gate's comparison in one line). */
export function gateLine(gate: GateView | null | undefined): string {
  if (!gate) return '';
  const champion = gate.champion === null ? 'no champion score' : `champion ${gate.champion.toFixed(3)}`;
  return `${gate.decision}: ${gate.metric} ${gate.challenger.toFixed(3)} vs ${champion} on ${gate.rows} rows — ${gate.reason}`;
}

export function splitLine(split: SplitView | null | undefined): string {
  if (!split) return '';
  return `${split.method}: ${split.trainRows} train / ${split.validationRows} validation, ${split.duplicates} duplicates, ${split.conflicts} conflicts, ${split.truncated} truncated`;
}

function headline(metrics: Record<string, unknown> | undefined): string {
  const latest = (metrics?.latest ?? metrics) as Record<string, unknown> | undefined;
  const acc = latest?.val_accuracy ?? latest?.accuracy;
  return typeof acc === 'number' ? `acc ${(acc * 100).toFixed(1)}%` : '';
}

export function registerRunCommands(program: Command, globals: () => GlobalOptions): void {
  program
    .command('runs')
    .description('list runs, newest first')
    .option('--model <name>', 'only runs of this model')
    .option('--status <status>', 'only runs in this status')
    .option('--limit <n>', 'at most this many', '50')
    .action(async (o: { model?: string; status?: string; limit: string }) => {
      const g = globals();
      try {
        const { runs } = await ApiClient.forOptions(g).runs({
          modelName: o.model,
          status: o.status,
          limit: Number(o.limit),
        });
        emit(g, runs.map(runSummary), () => {
          if (runs.length === 0)
            return console.log(
              'no runs yet: drop a CSV with "npx droptune submit <file.csv> --model <name>"',
            );
          console.log(
            table(
              ['run', 'model', 'status', 'version', 'created', 'error'],
              runs.map((r) => [
                r.runId,
                r.modelName,
                colorStatus(r.status),
                r.version,
                r.createdAt.slice(0, 19),
                r.error?.slice(0, 60),
              ]),
            ),
          );
        });
      } catch (err) {
        fail(g, err);
      }
    });

  program
    .command('run <runId>')
    .description('show one run: status, error, metrics, parameters')
    .action(async (runId: string) => {
      const g = globals();
      try {
        const run = await ApiClient.forOptions(g).run(runId);
        emit(g, runSummary(run), () => {
          console.log(
            table(
              ['field', 'value'],
              [
                ['run', run.runId],
                ['model', run.modelName],
                ['status', colorStatus(run.status)],
                ['error', run.error],
                ['dataset', run.datasetUri],
                ['version', run.version],
                ['params', JSON.stringify(run.params)],
                ['metrics', headline(run.metrics)],
                ['split', splitLine((run as { split?: SplitView | null }).split)],
                ['gate', gateLine((run as { gate?: GateView | null }).gate)],
                ['created', run.createdAt],
                ['finished', run.finishedAt],
              ],
            ),
          );
        });
      } catch (err) {
        fail(g, err);
      }
    });

  program
    .command('cancel <runId>')
    .description('cancel a run that has not finished')
    .action(async (runId: string) => {
      const g = globals();
      try {
        const run = await ApiClient.forOptions(g).cancel(runId);
        emit(g, runSummary(run), () => console.log(`${run.runId} ${colorStatus(run.status)}`));
      } catch (err) {
        fail(g, err);
      }
    });
}
