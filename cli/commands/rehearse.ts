import type { Command } from 'commander';
import pc from 'picocolors';
import { type GlobalOptions, note } from '../output.ts';
import { rehearse } from '../rehearse/rehearse.ts';

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
      const summary = await rehearse({ ...(g.home ? { home: g.home } : {}), log: note });
      if (g.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      if (summary.status === 'passed') {
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
