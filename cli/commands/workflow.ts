import type { Command } from 'commander';
import { AppError } from '../../shared/errors.ts';
import { BUILTIN_VARIABLE_FLAGS, builtinVariables, runWorkflowFile } from '../../workflows/run-file.ts';
import { fail, type GlobalOptions } from '../output.ts';

export function registerWorkflowCommands(program: Command, globals: () => GlobalOptions): void {
  const wf = program.command('workflow').description('Cloud Workflows files on the local runtime');
  const run = wf
    .command('run <file>')
    .description(
      'execute any Cloud Workflows YAML file offline, with real HTTP calls; prints {"result": …} or {"error": …}',
    )
    .option('--args <json>', 'the execution argument (JSON)')
    .option('--env <KEY=VALUE...>', 'values sys.get_env returns');
  // GOOGLE_CLOUD_PROJECT_ID, … : from these flags or the environment of the same name.
  for (const [flag, name] of Object.entries(BUILTIN_VARIABLE_FLAGS))
    run.option(`${flag} <value>`, `built-in ${name} (default: $${name})`);
  run.action(async (file: string, o: { args?: string; env?: string[] } & Record<string, string>) => {
    const g = globals();
    try {
      let args: unknown;
      if (o.args !== undefined) {
        try {
          args = JSON.parse(o.args);
        } catch (err) {
          throw new AppError('invalid_argument', `--args is not valid JSON: ${(err as Error).message}`);
        }
      }
      const env = Object.fromEntries(
        (o.env ?? []).map((kv) => {
          const i = kv.indexOf('=');
          if (i < 1) throw new AppError('invalid_argument', `--env takes KEY=VALUE (got "${kv}")`);
          return [kv.slice(0, i), kv.slice(i + 1)];
        }),
      );
      const flags = Object.fromEntries(Object.keys(BUILTIN_VARIABLE_FLAGS).map((f) => [f, o[optionKey(f)]]));
      const outcome = await runWorkflowFile(file, {
        args,
        env: { ...builtinVariables(process.env, flags), ...env },
      });
      process.stdout.write(
        `${JSON.stringify(outcome.ok ? { result: outcome.result } : { error: outcome.error }, null, 2)}\n`,
      );
      if (!outcome.ok) process.exitCode = 1;
    } catch (err) {
      fail(g, err);
    }
  });
}

/** Commander's option key for a flag: `--workflow-id` → `workflowId`. */
function optionKey(flag: string): string {
  return flag.slice(2).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}
