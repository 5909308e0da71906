/**
 * Which GPU fits which machine type, and which boot disk each machine series accepts: vendored from
 * Google's Compute Engine docs ("GPU machine types", https://cloud.google.com/compute/docs/gpus, and
 * the machine-series pages under https://cloud.google.com/compute/docs/accelerator-optimized-machines
 * and .../general-purpose-machines#n1_machines, read 2026-12-07). Only the GPU types a training
 * ladder can sensibly use are listed; an unlisted type is refused at config time rather than at the
 * first run's `instances.insert`.
 */

/** Machine series a trainer VM can use, with the boot disk types each accepts. */
export const SERIES_DISKS: Readonly<Record<string, readonly string[]>> = {
  // G2 refuses pd-standard.
  g2: ['pd-balanced', 'pd-ssd', 'hyperdisk-ml'],
  a2: ['pd-standard', 'pd-balanced', 'pd-ssd', 'hyperdisk-ml'],
  a3: [
    'pd-balanced',
    'pd-ssd',
    'hyperdisk-balanced',
    'hyperdisk-extreme',
    'hyperdisk-ml',
    'hyperdisk-throughput',
  ],
  n1: ['pd-standard', 'pd-balanced', 'pd-ssd'],
};

/**
 * One GPU type: its memory (GB per GPU, what decides whether a model fits) and where it can run.
 * Accelerator-optimized series come with the GPUs attached, so each machine type fixes the count;
 * on N1 the GPUs are attached, and the count caps the vCPUs.
 */
export interface GpuSpec {
  memoryGb: number;
  series: 'g2' | 'a2' | 'a3' | 'n1';
  /** Accelerator-optimized: machine type → GPUs it carries. */
  machines?: Readonly<Record<string, number>>;
  /** N1: GPUs per VM → most vCPUs allowed. */
  n1MaxVcpus?: Readonly<Record<number, number>>;
  /** The machine type a ladder rung gets when it names only the GPU. */
  defaultMachineType: string;
}

export const GPUS: Readonly<Record<string, GpuSpec>> = {
  'nvidia-l4': {
    memoryGb: 24,
    series: 'g2',
    machines: {
      'g2-standard-4': 1,
      'g2-standard-8': 1,
      'g2-standard-12': 1,
      'g2-standard-16': 1,
      'g2-standard-32': 1,
      'g2-standard-24': 2,
      'g2-standard-48': 4,
      'g2-standard-96': 8,
    },
    defaultMachineType: 'g2-standard-8',
  },
  'nvidia-tesla-t4': {
    memoryGb: 16,
    series: 'n1',
    n1MaxVcpus: { 1: 48, 2: 48, 4: 96 },
    defaultMachineType: 'n1-standard-8',
  },
  'nvidia-tesla-v100': {
    memoryGb: 16,
    series: 'n1',
    n1MaxVcpus: { 1: 12, 2: 24, 4: 48, 8: 96 },
    defaultMachineType: 'n1-standard-8',
  },
  'nvidia-tesla-p100': {
    memoryGb: 16,
    series: 'n1',
    n1MaxVcpus: { 1: 16, 2: 32, 4: 64 },
    defaultMachineType: 'n1-standard-8',
  },
  'nvidia-tesla-a100': {
    memoryGb: 40,
    series: 'a2',
    machines: {
      'a2-highgpu-1g': 1,
      'a2-highgpu-2g': 2,
      'a2-highgpu-4g': 4,
      'a2-highgpu-8g': 8,
      'a2-megagpu-16g': 16,
    },
    defaultMachineType: 'a2-highgpu-1g',
  },
  'nvidia-a100-80gb': {
    memoryGb: 80,
    series: 'a2',
    machines: { 'a2-ultragpu-1g': 1, 'a2-ultragpu-2g': 2, 'a2-ultragpu-4g': 4, 'a2-ultragpu-8g': 8 },
    defaultMachineType: 'a2-ultragpu-1g',
  },
  'nvidia-h100-80gb': {
    memoryGb: 80,
    series: 'a3',
    machines: { 'a3-highgpu-1g': 1, 'a3-highgpu-2g': 2, 'a3-highgpu-4g': 4, 'a3-highgpu-8g': 8 },
    defaultMachineType: 'a3-highgpu-1g',
  },
};

/** One rung of the capacity ladder as the workflow receives it (GPU_LADDER). */
export interface LadderRung {
  gpuType: string;
  machineType: string;
  /** GPUs on the VM: fixed by accelerator-optimized machine types, `gpuCount` on N1. */
  gpuCount: number;
  /** Memory of one GPU in GB: the pipeline skips rungs below the model's need. */
  memoryGb: number;
}

const N1_TYPE = /^n1-(standard|highmem|highcpu)-(\d+)$/;

/**
 * Resolves a rung (`gpuType`, optional `machineType`) against the table; returns the rung or the
 * reason it cannot exist, naming the GPU type or machine type at fault.
 */
export function resolveRung(
  gpuType: string,
  machineType: string | undefined,
  n1GpuCount: number,
): LadderRung | string {
  const gpu = GPUS[gpuType];
  if (!gpu) return `unknown GPU type ${gpuType} (known: ${Object.keys(GPUS).join(', ')})`;
  const machine = machineType ?? gpu.defaultMachineType;
  if (gpu.machines) {
    const count = gpu.machines[machine];
    if (count === undefined)
      return `machine type ${machine} cannot take ${gpuType} (use one of ${Object.keys(gpu.machines).join(', ')})`;
    return { gpuType, machineType: machine, gpuCount: count, memoryGb: gpu.memoryGb };
  }
  const n1 = N1_TYPE.exec(machine);
  if (!n1) return `machine type ${machine} cannot take ${gpuType} (it attaches to N1 machine types only)`;
  const limit = gpu.n1MaxVcpus?.[n1GpuCount];
  if (limit === undefined)
    return `${gpuType} attaches in counts of ${Object.keys(gpu.n1MaxVcpus ?? {}).join(', ')}, not gpuCount=${n1GpuCount}`;
  if (Number(n1[2]) > limit)
    return `machine type ${machine} has more vCPUs than ${n1GpuCount} × ${gpuType} allows (at most ${limit})`;
  return { gpuType, machineType: machine, gpuCount: n1GpuCount, memoryGb: gpu.memoryGb };
}

/** The machine series of a machine type (`g2-standard-8` → `g2`). */
export function seriesOf(machineType: string): string {
  return machineType.split('-')[0]!;
}
