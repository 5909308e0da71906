import type { Command } from 'commander';
import pc from 'picocolors';
import { writeRows } from '../../scripts/images-report.ts';
import { type GlobalOptions, note } from '../output.ts';
import { type RehearsalSummary, rehearse } from '../rehearse/rehearse.ts';

/**
 * `droptune rehearse`: the cloud path end to end on this machine with the cloud's images
 * (build them first with `npm run images`). Exits non-zero with the failing stage on one line.
 */
export function registerRehearse(program: Command, globals: () => GlobalOptions): void {
  program
    .command('rehearse')
    .description("run the pipeline end to end with the cloud's trainer and serving images (podman)")
    .action(async () => {
      const g = globals();
      // The stack's functions log JSON lines with console.log; stdout is the summary's alone.
      console.log = (...args: unknown[]) => console.error(...args);
      const summary = await rehearse({ ...(g.home ? { home: g.home } : {}), log: note });
      if (g.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      if (summary.status === 'passed') {
        writeRows(['rehearsal'], stageRows(summary));
        if (!g.json)
          note(
            `${pc.green('rehearsal passed')}: v${summary.version} served, ${Object.entries(
              summary.stageSeconds,
            )
              .map(([k, v]) => `${k} ${v}s`)
              .join(', ')}`,
          );
        return;
      }
      if (summary.logTail) note(pc.dim(summary.logTail));
      process.stderr.write(`${pc.red('error:')} ${summary.error}\n`);
      process.exitCode = 1;
    });
}

/** One `stage_s` row per stage for bench/results/images.json (time-to-URL, on this machine). */
function stageRows(summary: RehearsalSummary) {
  return Object.entries(summary.stageSeconds).map(([stage, seconds]) => ({
    system: 'rehearsal',
    metric: 'stage_s',
    value: seconds,
    unit: 's',
    conditions: {
      stage,
      trainer: summary.images.trainer,
      serving: summary.images.serving,
      note: 'wall time on a shared machine; the cloud composition on twins (gs:// on fake-gcs-server, PostgreSQL IAM logins, ID tokens); CPU training of a tiny BERT',
    },
  }));
}
