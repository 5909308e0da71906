import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { LocalTrainingBackend } from './training-backend.ts';

describe('LocalTrainingBackend with a Python that does not exist', () => {
  it('stops the instance and writes failure.json with the reason instead of crashing', async () => {
    const home = mkdtempSync(join(tmpdir(), 'droptune-spawn-'));
    const python = join(home, 'no-venv', 'bin', 'python');
    const backend = new LocalTrainingBackend({ home, python });
    await backend.insert({
      project: 'local',
      zone: 'local-a',
      name: 'trainer-r1',
      provisioningModel: 'STANDARD',
      env: { DROPTUNE_RUN_ID: 'r1', DROPTUNE_OUTPUT_URI: 'file://models/runs/r1/' },
      body: {},
    });
    await vi.waitFor(() => expect(backend.get('local', 'local-a', 'trainer-r1')?.status).toBe('TERMINATED'));
    const failure = JSON.parse(
      readFileSync(join(home, 'buckets', 'models', 'runs', 'r1', 'failure.json'), 'utf8'),
    );
    expect(failure).toMatchObject({ runId: 'r1', code: 'failed_precondition' });
    expect(failure.error).toContain(`cannot start the trainer: spawn ${python} ENOENT`);
    expect(backend.lastOutput('local', 'local-a', 'trainer-r1')).toContain('DROPTUNE_PYTHON');
    expect(await backend.delete('local', 'local-a', 'trainer-r1')).toBe(true);
  });
});
