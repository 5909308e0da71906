import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openComponentLog, signInLine } from './console.ts';

const stack = {
  apiUrl: 'http://127.0.0.1:8780',
  webUrl: 'http://127.0.0.1:8780/#token=s3cr3t-token-0123456789',
  home: '/home/u/.droptune',
};

describe('console output of droptune up', () => {
  it('shows the sign-in link with the token on a terminal only; otherwise points to the token file', () => {
    expect(signInLine(stack, true)).toContain('#token=s3cr3t-token-0123456789');
    const piped = signInLine(stack, false);
    expect(piped).not.toContain('s3cr3t');
    expect(piped).toContain('/home/u/.droptune/api-token');
  });

  it("appends the components' JSON log lines to <home>/logs/stack.log, readable by the owner only", async () => {
    const home = mkdtempSync(join(tmpdir(), 'droptune-logs-'));
    const log = openComponentLog(home, false);
    log.write('{"component":"onDatasetUploaded","msg":"ignored"}');
    log.write('{"component":"stack","msg":"second"}');
    await log.close();
    const lines = readFileSync(join(home, 'logs', 'stack.log'), 'utf8')
      .trim()
      .split('\n');
    expect(lines.map((l) => JSON.parse(l).msg)).toEqual(['ignored', 'second']);
    expect(statSync(log.path).mode & 0o077).toBe(0);
  });
});
