import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { configSchema, parseConfig } from './config.ts';

const project = 'my-proj-123';

describe('parseConfig', () => {
  it('fills every default from the project alone', () => {
    const c = parseConfig({ project });
    expect(c.region).toBe('us-central1');
    expect(c.zones).toEqual(['us-central1-a', 'us-central1-b', 'us-central1-c']);
    expect(c.gpuCount).toBe(1);
    expect(c.dbDeletionProtection).toBe(true);
    expect(c.servingAllowUnauthenticated).toBe(false);
    expect(c.apiInvokers).toEqual([]);
    expect(c.billingAccount).toBeUndefined();
  });

  it('coerces the strings pulumi config stores into numbers, booleans and lists', () => {
    const c = parseConfig({
      project,
      gpuCount: '2',
      allowIapSsh: 'true',
      gateMin: '0.75',
      apiInvokers: 'user:ana@example.com, serviceAccount:ci@p.iam.gserviceaccount.com',
      servingInvokers: '["group:analysts@example.com"]',
    });
    expect(c.gpuCount).toBe(2);
    expect(c.allowIapSsh).toBe(true);
    expect(c.gateMin).toBe(0.75);
    expect(c.apiInvokers).toEqual(['user:ana@example.com', 'serviceAccount:ci@p.iam.gserviceaccount.com']);
    expect(c.servingInvokers).toEqual(['group:analysts@example.com']);
  });

  it('names the key of a bad value', () => {
    expect(() => parseConfig({ project, gpuCount: 'two' })).toThrow(/gpuCount: .*number/);
    expect(() => parseConfig({ project, allowOnDemand: 'yes' })).toThrow(/allowOnDemand/);
    expect(() => parseConfig({ project: 'X' })).toThrow(/project: must be a GCP project id/);
    expect(() => parseConfig({ project, apiInvokers: 'ana@example.com' })).toThrow(
      /apiInvokers.0: must be an IAM member/,
    );
  });

  it('never lets the control API be public', () => {
    expect(() =>
      parseConfig({ project, apiInvokers: 'allUsers', servingAllowUnauthenticated: 'true' }),
    ).toThrow(/control API is never public/);
  });

  it('allows public prediction services only behind the flag', () => {
    expect(() => parseConfig({ project, servingInvokers: 'allUsers' })).toThrow(
      /servingAllowUnauthenticated=true/,
    );
    expect(
      parseConfig({ project, servingInvokers: 'allUsers', servingAllowUnauthenticated: 'true' })
        .servingInvokers,
    ).toEqual(['allUsers']);
  });

  it('requires zones outside us-central1 and checks they are in the region', () => {
    expect(() => parseConfig({ project, region: 'europe-west4' })).toThrow(
      /set droptune:zones for region europe-west4/,
    );
    expect(() =>
      parseConfig({ project, region: 'europe-west4', zones: 'europe-west4-a,us-central1-a' }),
    ).toThrow(/zone us-central1-a is not in region europe-west4/);
    expect(parseConfig({ project, region: 'europe-west4', zones: 'europe-west4-a' }).zones).toEqual([
      'europe-west4-a',
    ]);
  });

  it('rejects a Coldline age that does not come after the Nearline age', () => {
    expect(() =>
      parseConfig({ project, datasetsNearlineAfterDays: '90', datasetsColdlineAfterDays: '60' }),
    ).toThrow(/datasetsColdlineAfterDays: must be greater/);
  });
});

describe('capacity ladder and boot disk', () => {
  it('defaults to L4 -> T4 -> A100 with each machine type and GPU memory', () => {
    expect(parseConfig({ project }).ladder).toEqual([
      { gpuType: 'nvidia-l4', machineType: 'g2-standard-8', gpuCount: 1, memoryGb: 24 },
      { gpuType: 'nvidia-tesla-t4', machineType: 'n1-standard-8', gpuCount: 1, memoryGb: 16 },
      { gpuType: 'nvidia-tesla-a100', machineType: 'a2-highgpu-1g', gpuCount: 1, memoryGb: 40 },
    ]);
    expect(parseConfig({ project }).bootDiskType).toBe('pd-balanced');
  });

  it('takes GPU types alone, with machine types, or as JSON objects', () => {
    expect(parseConfig({ project, gpuLadder: 'nvidia-tesla-t4' }).ladder).toEqual([
      { gpuType: 'nvidia-tesla-t4', machineType: 'n1-standard-8', gpuCount: 1, memoryGb: 16 },
    ]);
    const c = parseConfig({
      project,
      gpuCount: '2',
      gpuLadder: '[{"gpuType":"nvidia-l4","machineType":"g2-standard-24"},{"gpuType":"nvidia-tesla-t4"}]',
    });
    expect(c.ladder.map((r) => [r.machineType, r.gpuCount])).toEqual([
      ['g2-standard-24', 2],
      ['n1-standard-8', 2],
    ]);
  });

  it('names the rung with an unknown GPU type', () => {
    expect(() => parseConfig({ project, gpuLadder: 'nvidia-l4,nvidia-rtx-9000' })).toThrow(
      /gpuLadder\.1: unknown GPU type nvidia-rtx-9000 \(known: nvidia-l4, /,
    );
  });

  it('names a machine type that cannot take the GPU', () => {
    expect(() => parseConfig({ project, gpuLadder: 'nvidia-l4:n1-standard-8' })).toThrow(
      /gpuLadder\.0: machine type n1-standard-8 cannot take nvidia-l4 \(use one of g2-standard-4/,
    );
    expect(() => parseConfig({ project, gpuLadder: 'nvidia-tesla-t4:g2-standard-8' })).toThrow(
      /gpuLadder\.0: machine type g2-standard-8 cannot take nvidia-tesla-t4 \(it attaches to N1/,
    );
    expect(() => parseConfig({ project, gpuLadder: 'nvidia-tesla-v100:n1-standard-16' })).toThrow(
      /gpuLadder\.0: machine type n1-standard-16 has more vCPUs than 1 × nvidia-tesla-v100 allows \(at most 12\)/,
    );
    expect(() => parseConfig({ project, gpuCount: '3', gpuLadder: 'nvidia-tesla-t4' })).toThrow(
      /gpuLadder\.0: nvidia-tesla-t4 attaches in counts of 1, 2, 4, not gpuCount=3/,
    );
  });

  it('refuses a boot disk type a series of the ladder does not accept', () => {
    expect(() => parseConfig({ project, bootDiskType: 'pd-standard' })).toThrow(
      /bootDiskType: pd-standard is not accepted by g2-standard-8 \(g2 takes pd-balanced, pd-ssd, hyperdisk-ml\)/,
    );
    expect(
      parseConfig({ project, bootDiskType: 'pd-standard', gpuLadder: 'nvidia-tesla-t4' }).bootDiskType,
    ).toBe('pd-standard');
  });

  it('refuses the keys the ladder replaced instead of ignoring them', () => {
    expect(() => parseConfig({ project, machineType: 'g2-standard-8' })).toThrow(
      /machineType: replaced by droptune:gpuLadder/,
    );
  });
});

describe('Pulumi.example.yaml', () => {
  const doc = parse(readFileSync(new URL('../Pulumi.example.yaml', import.meta.url), 'utf8')) as {
    config: Record<string, string>;
  };
  const raw = Object.fromEntries(
    Object.entries(doc.config).map(([k, v]) => [k.replace(/^(gcp|droptune):/, ''), String(v)]),
  );
  const text = readFileSync(new URL('../Pulumi.example.yaml', import.meta.url), 'utf8');

  it('is a valid config equal to the defaults (apart from the example invoker)', () => {
    const c = parseConfig(raw);
    const defaults = parseConfig({ project: raw.project! });
    expect({ ...c, apiInvokers: [] }).toEqual(defaults);
  });

  it('documents every key the schema reads', () => {
    const keys = Object.keys(configSchema.in.shape).filter((k) => k !== 'project' && k !== 'region');
    const undocumented = keys.filter((k) => !text.includes(`droptune:${k}:`));
    expect(undocumented).toEqual([]);
  });
});
