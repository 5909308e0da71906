import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const HERE = dirname(fileURLToPath(import.meta.url));

/** Runs a script in a real child process (vitest would itself catch what the guard catches). */
async function runChild(script: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: join(HERE, '..', '..'),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const [code] = await once(child, 'exit');
  return { code: code as number | null, stdout, stderr };
}

describe('keepServingOnUncaughtErrors', () => {
  it('logs an error thrown outside any request and keeps the process serving', async () => {
    const guard = join(HERE, 'keep-serving.ts');
    const r = await runChild(`
      import http from 'node:http';
      import { keepServingOnUncaughtErrors } from ${JSON.stringify(guard)};
      keepServingOnUncaughtErrors((l) => process.stderr.write(l + '\\n'));
      const server = http.createServer((_req, res) => {
        setImmediate(() => { throw new RangeError('Cannot create a string longer than 0x1fffffe8 characters'); });
        Promise.reject(new Error('a rejected promise nobody awaited'));
        res.end('ok');
      });
      server.listen(0, '127.0.0.1', async () => {
        const url = 'http://127.0.0.1:' + server.address().port;
        const first = await (await fetch(url)).text();
        await new Promise((r) => setTimeout(r, 0));
        const second = await (await fetch(url)).text();
        process.stdout.write(first + ' ' + second);
        server.close();
      });
    `);
    expect(r.stdout).toBe('ok ok');
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/uncaught exception \(the stack keeps running\).*0x1fffffe8/);
    expect(r.stderr).toMatch(/unhandled rejection.*nobody awaited/);
  });
});
