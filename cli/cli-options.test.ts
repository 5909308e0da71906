import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const BIN = join(dirname(fileURLToPath(import.meta.url)), 'bin.js');
/** A loopback port nothing listens on: every API call fails with `unavailable`. */
const DEAD_API = 'http://127.0.0.1:1';

async function droptune(...args: string[]) {
  const home = mkdtempSync(join(tmpdir(), 'droptune-cli-'));
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, DROPTUNE_HOME: home, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const [code] = await once(child, 'exit');
  return { code: code as number, stdout, stderr };
}

describe('droptune command line', () => {
  it.each([
    ['after the subcommand', ['runs', '--json', '--api', DEAD_API]],
    ['before the subcommand', ['--json', '--api', DEAD_API, 'runs']],
    ['in a nested subcommand', ['models', '--json', '--api', DEAD_API]],
  ])('takes --json and --api %s; an error is one JSON document on stdout', async (_where, args) => {
    const r = await droptune(...args);
    expect(r.code).not.toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      error: { code: 'unavailable', message: expect.stringContaining(DEAD_API) },
    });
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('answers a usage error with one line on stderr, and with --json one error document', async () => {
    const human = await droptune('runs', '--bogus');
    expect(human.code).toBe(1);
    expect(human.stdout).toBe('');
    expect(human.stderr.trim()).toBe("error: unknown option '--bogus'");
    const json = await droptune('run', '--json');
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toEqual({
      error: { code: 'invalid_argument', message: "missing required argument 'runId'" },
    });
  });

  it('takes --home after the subcommand', async () => {
    const home = mkdtempSync(join(tmpdir(), 'droptune-cli-home-'));
    const r = await droptune('runs', '--home', home, '--json');
    expect(r.code).toBe(1);
    // No stack runs on that home: the error names it (not "unknown option '--home'").
    expect(JSON.parse(r.stdout).error.message).toContain(home);
  });
});
