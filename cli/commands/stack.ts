import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { parse } from 'csv-parse/sync';
import pc from 'picocolors';
import { AppError } from '../../shared/errors.ts';
import { type LocalStack, startLocalStack } from '../local-stack/stack.ts';
import { fail, type GlobalOptions, note } from '../output.ts';
import { openComponentLog, signInLine } from './console.ts';
import { keepServingOnUncaughtErrors } from './keep-serving.ts';
import { submit } from './submit.ts';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Creates or refreshes the trainer's Python environment (a no-op when it is up to date). */
export function ensurePythonEnv(): void {
  note(pc.dim("checking the trainer's Python environment (first time: downloads PyTorch, a few minutes)…"));
  const r = spawnSync('bash', [join(REPO, 'scripts', 'py-env.sh')], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (r.status !== 0)
    throw new AppError(
      'internal',
      'could not create the Python environment for the trainer (see the messages above)',
    );
}

/**
 * Starts the stack for `up` / `demo`: the components' JSON logs go to `<home>/logs/stack.log`
 * (and stderr with --verbose), an error outside a request is logged there instead of ending the
 * process, and the sign-in link (it holds the token) is shown on a terminal only.
 */
export async function startForConsole(g: GlobalOptions, port: string): Promise<LocalStack> {
  const home = resolve(g.home ?? process.env.DROPTUNE_HOME ?? '.droptune');
  const logs = openComponentLog(home, g.verbose === true);
  keepServingOnUncaughtErrors(logs.write);
  const stack = await startLocalStack({ home, port: Number(port), log: note, componentLog: logs.write });
  note(`logs         ${logs.path}${g.verbose ? ' (and here: --verbose)' : ''}`);
  const line = signInLine(stack, process.stdout.isTTY === true);
  if (process.stdout.isTTY) process.stdout.write(`${line}\n`);
  else note(line);
  return stack;
}

/** Keeps the process up until Ctrl-C / SIGTERM, then stops the stack and its children. */
function holdUntilSignal(stack: LocalStack): Promise<void> {
  return new Promise((resolveDone) => {
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      note(`\n${signal}: stopping the local stack…`);
      await stack.stop();
      note('stopped.');
      resolveDone();
    };
    process.once('SIGINT', () => void stop('SIGINT'));
    process.once('SIGTERM', () => void stop('SIGTERM'));
  });
}

export function registerStackCommands(program: Command, globals: () => GlobalOptions): void {
  program
    .command('up')
    .description('start the local stack in the foreground (Ctrl-C stops it)')
    .option('--port <port>', 'control API and web page port (0: any free port)', '8780')
    .action(async (o: { port: string }) => {
      const g = globals();
      try {
        ensurePythonEnv();
        const stack = await startForConsole(g, o.port);
        await holdUntilSignal(stack);
      } catch (err) {
        fail(g, err);
      }
    });

  program
    .command('demo')
    .description(
      'start the stack, fine-tune the bundled support-tickets data, and print a live prediction URL',
    )
    .option('--port <port>', 'control API and web page port (0: any free port)', '8780')
    .option('--exit', 'stop the stack and exit when the demo is done')
    .option('--epochs <n>', 'training epochs', '1')
    .action(async (o: { port: string; exit?: boolean; epochs: string }) => {
      const g = globals();
      const started = Date.now();
      let stack: LocalStack | undefined;
      try {
        ensurePythonEnv();
        stack = await startForConsole(g, o.port);
        const csv = join(REPO, 'examples', 'support-tickets', 'train.csv');
        // MiniLM converges in one epoch over the 2,500 tickets at this rate; 64 tokens hold a ticket.
        const settings = { epochs: o.epochs, lr: '2e-4', maxLength: '64', batchSize: '32' };
        await submit(
          csv,
          { model: 'support-tickets', wait: true, timeout: '3600', ...settings },
          { ...g, home: stack.home },
        );
        if (process.exitCode) throw new AppError('internal', 'the demo run did not succeed (reason above)');
        const { url } =
          (await stack.api.models()).models.find((m) => m.modelName === 'support-tickets') ?? {};
        const rows = parse(readFileSync(join(REPO, 'examples', 'support-tickets', 'heldout.csv')), {
          columns: true,
        }) as Array<{
          text: string;
        }>;
        const heldout = rows.slice(0, 3).map((r) => r.text);
        const res = await fetch(`${url}/v1/models/support-tickets:predict`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ instances: heldout }),
        });
        const body = (await res.json()) as {
          predictions: Array<{ label: string; scores: Record<string, number> }>;
        };
        console.log(`\n${pc.bold('prediction URL')}  ${url}/v1/models/support-tickets:predict`);
        console.log(
          `${pc.bold('try it')}          curl -s -X POST ${url}/v1/models/support-tickets:predict -H 'content-type: application/json' -d '{"instances": ["I was charged twice this month"]}'`,
        );
        console.log(pc.bold('\nthree held-out tickets:'));
        for (const [i, p] of body.predictions.entries()) {
          console.log(
            `  ${pc.cyan(p.label.padEnd(14))} ${(p.scores[p.label]! * 100).toFixed(1)}%  ${heldout[i]}`,
          );
        }
        note(pc.dim(`\ndemo took ${((Date.now() - started) / 1000).toFixed(0)} s`));
        if (o.exit) {
          await stack.stop();
          return;
        }
        note('the stack keeps running: Ctrl-C stops it');
        await holdUntilSignal(stack);
      } catch (err) {
        await stack?.stop().catch(() => {});
        fail(g, err);
      }
    });
}
