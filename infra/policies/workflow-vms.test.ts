import { describe, expect, it } from 'vitest';
import { vmInsertBodies, workflowVmsPrivateAndShielded } from './workflow-vms.ts';

const source = (body: string) => `main:
  steps:
    - create:
        call: googleapis.compute.v1.instances.insert
        args:
          project: p
          zone: z
          body:
${body
  .trim()
  .split('\n')
  .map((l) => `            ${l}`)
  .join('\n')}
`;
const good = `
shieldedInstanceConfig:
  enableSecureBoot: \${cfg.secureBoot}
  enableVtpm: true
  enableIntegrityMonitoring: true
serviceAccounts:
  - email: \${cfg.trainerSa}
networkInterfaces:
  - subnetwork: \${cfg.subnetwork}
`;
const wf = (src: string) => [
  { type: 'gcp:workflows/workflow:Workflow', name: 'w', inputs: { sourceContents: src } },
];

describe('workflowVmsPrivateAndShielded', () => {
  it('finds insert bodies nested anywhere in the source', () => {
    expect(vmInsertBodies(source(good))).toHaveLength(1);
    expect(vmInsertBodies('main:\n  steps:\n    - a:\n        return: 1\n')).toEqual([]);
  });

  it('accepts a private, shielded VM with its own service account', () => {
    expect(workflowVmsPrivateAndShielded(wf(source(good)))).toEqual([]);
  });

  it('rejects an external IP', () => {
    const bad = good.replace(
      '  - subnetwork: ${cfg.subnetwork}',
      '  - subnetwork: s\n    accessConfigs:\n      - type: ONE_TO_ONE_NAT',
    );
    expect(workflowVmsPrivateAndShielded(wf(source(bad))).map((x) => x.message)).toEqual([
      'instances.insert #1: external IP (accessConfigs)',
    ]);
  });

  it('rejects vTPM off, Secure Boot literally off, and a missing service account', () => {
    const bad = good
      .replace('enableVtpm: true', 'enableVtpm: false')
      .replace('enableSecureBoot: ${cfg.secureBoot}', 'enableSecureBoot: false')
      .replace('  - email: ${cfg.trainerSa}', '  - scopes: []');
    expect(workflowVmsPrivateAndShielded(wf(source(bad))).map((x) => x.message)).toEqual([
      'instances.insert #1: shieldedInstanceConfig.enableVtpm must be true',
      'instances.insert #1: shieldedInstanceConfig.enableSecureBoot is off',
      'instances.insert #1: serviceAccounts[0].email unset (would be the Compute default SA)',
    ]);
  });
});
