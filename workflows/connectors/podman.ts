import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

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
