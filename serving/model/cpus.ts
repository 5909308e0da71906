import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/**
 * The CPUs this process may really use: the smaller of the CPUs it is scheduled on
 * (`os.availableParallelism`, which honours affinity) and the cgroup CPU quota (Cloud Run and
 * Docker cap CPU with a quota, not with affinity, so the machine's core count would overstate it
 * and oversubscribe onnxruntime's thread pool).
 */
export function availableCpus(readFile: (path: string) => string = (p) => readFileSync(p, 'utf8')): number {
  const scheduled = availableParallelism();
  const quota = cgroupQuota(readFile);
  return Math.max(1, quota === undefined ? scheduled : Math.min(scheduled, quota));
}

function cgroupQuota(readFile: (path: string) => string): number | undefined {
  try {
    // cgroup v2: "<quota> <period>" or "max <period>"
    const [quota, period] = readFile('/sys/fs/cgroup/cpu.max').trim().split(/\s+/);
    if (quota && quota !== 'max' && period) return Math.ceil(Number(quota) / Number(period));
    return undefined;
  } catch {
    // fall through to cgroup v1
  }
  try {
    const quota = Number(readFile('/sys/fs/cgroup/cpu/cpu.cfs_quota_us').trim());
    const period = Number(readFile('/sys/fs/cgroup/cpu/cpu.cfs_period_us').trim());
    if (quota > 0 && period > 0) return Math.ceil(quota / period);
  } catch {
    // no cgroup information: trust the scheduler
  }
  return undefined;
}
