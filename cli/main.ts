import { Command, CommanderError } from 'commander';
import { AppError } from '../shared/errors.ts';
import { registerModelCommands } from './commands/models.ts';
import { registerPredict } from './commands/predict.ts';
import { registerRehearse } from './commands/rehearse.ts';
import { registerRunCommands } from './commands/runs.ts';
import { registerStackCommands } from './commands/stack.ts';
import { registerSubmit } from './commands/submit.ts';
import { registerWorkflowCommands } from './commands/workflow.ts';
import { fail, type GlobalOptions } from './output.ts';

/**
 * `droptune`: the local stack (`up`, `demo`) and a client of the control API for everything
 * else (the local stack's, or a cloud one with `--api <url>`). The global flags work anywhere on
 * the line (`droptune runs --json` and `droptune --json runs`), as with gh, kubectl and gcloud:
 * commander reads the program's options before and after the subcommand unless positional
 * options are enabled, so they are not.
 */
const program = new Command('droptune')
  .description('Drop a labelled CSV, get a fine-tuned model behind a prediction URL.')
  .option('--json', 'print one JSON document on stdout (progress stays on stderr)')
  .option('--api <url>', 'a control API URL (default: the running local stack)')
  .option('--home <dir>', 'local state directory (default: $DROPTUNE_HOME or .droptune)')
  .option(
    '--verbose',
    "also print the components' JSON log lines on stderr (always in $DROPTUNE_HOME/logs/)",
  );

const globals = (): GlobalOptions => program.opts<GlobalOptions>();

registerStackCommands(program, globals);
registerSubmit(program, globals);
registerRunCommands(program, globals);
registerModelCommands(program, globals);
registerPredict(program, globals);
registerWorkflowCommands(program, globals);
registerRehearse(program, globals);

// Usage errors (unknown option, missing argument) take the same path as every other error: one
// line on stderr and, with --json, one `{"error": …}` document on stdout; help stays as it is.
for (const command of [program, ...allSubcommands(program)]) {
  command.exitOverride().configureOutput({ outputError: () => {} });
}

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // Help and version were printed already; `droptune` alone prints help and exits 1.
    if (err.exitCode === 0 || err.code === 'commander.help') process.exit(err.exitCode);
    fail(globals(), new AppError('invalid_argument', err.message.replace(/^error: /, '')));
  }
  fail(globals(), err);
}

function allSubcommands(command: Command): Command[] {
  return command.commands.flatMap((c) => [c, ...allSubcommands(c)]);
}
