import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { TRAINER_DIR } from '../../shared/trainer-python.ts';

const run = promisify(execFile);

/**
 * podman as root on a machine without a Docker engine (measured here, see scripts/images-lib.sh):
 * runc and cgroupfs, and on `run` the host network and ulimits no higher than these.
 */
export const PODMAN_GLOBAL = ['--runtime', 'runc', '--cgroup-manager=cgroupfs'];
export const PODMAN_RUN_FLAGS = [
  '--network',
  'host',
  '--ulimit',
  'nofile=1024:1024',
  '--ulimit',
  'nproc=4096:4096',
  '--pull=never',
];

/** The `podman` argv prefix (global flags included). */
export function podmanArgv(args: string[]): string[] {
  return ['podman', ...PODMAN_GLOBAL, ...args];
}

/** Runs a short podman command; rejects with its stderr. */
export async function podman(args: string[]): Promise<string> {
  const [cmd, ...rest] = podmanArgv(args);
  const { stdout } = await run(cmd as string, rest, { maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

/** The image's digest, or undefined when the image is not in local storage. */
export async function imageDigest(image: string): Promise<string | undefined> {
  try {
    return (await podman(['image', 'inspect', '--format', '{{.Digest}}', image])).trim();
  } catch {
    return undefined;
  }
}

/** Force-removes every container carrying `label` (running or not); returns how many. */
export async function removeLabelled(label: string): Promise<number> {
  const ids = (await podman(['ps', '-aq', '--filter', `label=${label}`])).split('\n').filter(Boolean);
  if (ids.length > 0) await podman(['rm', '-f', '-t', '5', ...ids]).catch(() => '');
  return ids.length;
}

/** Names of running containers carrying `label` (tests check nothing is left behind). */
export async function runningLabelled(label: string): Promise<string[]> {
  const out = await podman(['ps', '--format', '{{.Names}}', '--filter', `label=${label}`]);
  return out.split('\n').filter(Boolean);
}

/** What `tinyFixturesInImage` writes: absolute paths under its `dir`. */
export interface TinyFixtures {
  /** Directory of the 2-layer random BERT (config.json, weights, tokenizer). */
  baseModel: string;
  /** The labelled CSV. */
  csv: string;
  rowsPerLabel: number;
}

/**
 * Builds the tiny BERT base model and a labelled CSV with the trainer **image's** own Python
 * (training-image/tests/tiny_model.py mounted read-only), so no host Python is needed. Runs as
 * root: `dir` is a host folder owned by root, mounted at the same path inside.
 */
export async function tinyFixturesInImage(image: string, dir: string, f: TinyFixtures): Promise<void> {
  const script = [
    'from pathlib import Path',
    'import sys',
    'sys.path.insert(0, "/opt/droptune-tests")',
    'from tiny_model import build_tiny_bert, write_synthetic_csv',
    `build_tiny_bert(Path(${JSON.stringify(f.baseModel)}))`,
    `write_synthetic_csv(Path(${JSON.stringify(f.csv)}), rows_per_label=${Number(f.rowsPerLabel)})`,
  ].join('\n');
  await podman([
    'run',
    '--rm',
    ...PODMAN_RUN_FLAGS,
    '--user',
    '0',
    '--volume',
    `${dir}:${dir}`,
    '--volume',
    `${join(TRAINER_DIR, 'tests')}:/opt/droptune-tests:ro`,
    '--entrypoint',
    'python',
    image,
    '-c',
    script,
  ]);
}
