import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { TASKS } from '../../shared/contracts/task.ts';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin.js');
/** A loopback port nothing listens on: the upload happens, finding its run then fails. */
const DEAD_API = 'http://127.0.0.1:1';

/** Runs `droptune submit` on a fresh home holding a small CSV; returns the home's files too. */
async function submit(...flags: string[]) {
  const home = mkdtempSync(join(tmpdir(), 'droptune-submit-'));
  const csv = join(home, 'reviews.csv');
  writeFileSync(csv, 'text,label\ngood,4\nbad,1\n');
  const child = spawn(
    process.execPath,
    [BIN, 'submit', csv, '--model', 'reviews', '--no-wait', '--json', '--api', DEAD_API, ...flags],
    {
      env: { ...process.env, DROPTUNE_HOME: home, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.resume();
  const [code] = await once(child, 'exit');
  const settings = readdirSync(home, { recursive: true, encoding: 'utf8' }).filter((f) =>
    f.endsWith('droptune.json'),
  );
  return { code: code as number, stdout, home, settings };
}

describe('droptune submit --task', () => {
  it('writes the chosen task into the model’s droptune.json beside the upload', async () => {
    const r = await submit('--task', 'regression', '--epochs', '2');
    expect(r.settings).toHaveLength(1);
    expect(JSON.parse(readFileSync(join(r.home, r.settings[0]!), 'utf8'))).toEqual({
      task: 'regression',
      epochs: 2,
    });
  });

  it('refuses a task that is not one of TASKS, naming them, before uploading anything', async () => {
    const r = await submit('--task', 'ranking');
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toEqual({
      error: {
        code: 'invalid_argument',
        message: `--task must be one of ${TASKS.join(', ')} (got "ranking")`,
      },
    });
    expect(
      readdirSync(r.home, { recursive: true, encoding: 'utf8' }).filter((f) => f.includes('reviews/')),
    ).toEqual([]);
  });
});
