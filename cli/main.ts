import { Command } from 'commander';
import { registerModelCommands } from './commands/models.ts';
import { registerRehearse } from './commands/rehearse.ts';
import { registerRunCommands } from './commands/runs.ts';
import { registerStackCommands } from './commands/stack.ts';
import { registerSubmit } from './commands/submit.ts';
import { registerWorkflowCommands } from './commands/workflow.ts';
import type { GlobalOptions } from './output.ts';

/**
 * `droptune`: the local stack (`up`, `demo`) and a client of the control API for everything
 * else (the local stack's, or a cloud one with `--api <url>`). Every command takes `--json`.
 */
const program = new Command('droptune')
  .description('Drop a labelled CSV, get a fine-tuned model behind a prediction URL.')
  .option('--json', 'print one JSON document on stdout (progress stays on stderr)')
  .option('--api <url>', 'a control API URL (default: the running local stack)')
  .option('--home <dir>', 'local state directory (default: $DROPTUNE_HOME or .droptune)')
  .showHelpAfterError()
  .enablePositionalOptions();

const globals = (): GlobalOptions => program.opts<GlobalOptions>();

registerStackCommands(program, globals);
registerSubmit(program, globals);
registerRunCommands(program, globals);
registerModelCommands(program, globals);
registerWorkflowCommands(program, globals);
registerRehearse(program, globals);

await program.parseAsync(process.argv);
