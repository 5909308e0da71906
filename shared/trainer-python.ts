/**
 * The one place that finds the trainer's Python (the local GPU-VM twin, the end-to-end suites,
 * the tiny test model): `$DROPTUNE_PYTHON` when set, else the repository's `.venv` that
 * scripts/py-env.sh creates. `TRAINER_DIR` is where `droptune_trainer` is importable from.
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const TRAINER_DIR = join(REPO_ROOT, 'training-image');

export function trainerPython(env: NodeJS.ProcessEnv = process.env): string {
  return env.DROPTUNE_PYTHON || join(REPO_ROOT, '.venv', 'bin', 'python');
}
