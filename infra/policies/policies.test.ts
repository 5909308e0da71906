import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  apisEnabled,
  bucketsArePrivate,
  functionsRuntimeSupported,
  iamGrants,
  noComputeDefaultServiceAccount,
  noPrimitiveRoles,
  noPublicMembers,
  type PolicyResource,
  servicesAuthenticated,
  sqlPrivateWithTls,
  vmsPrivateAndShielded,
  workflowEnvValid,
  workflowSourceMatches,
} from './policies.ts';

const res = (type: string, inputs: Record<string, any>, name = 'r'): PolicyResource => ({
  type,
  name,
  inputs,
});
const SA = 'serviceAccount:x@p.iam.gserviceaccount.com';

describe('bucketsArePrivate', () => {
  const bucket = (inputs: Record<string, any>) => res('gcp:storage/bucket:Bucket', inputs);
  it('accepts uniform access with enforced public access prevention', () => {
    expect(
      bucketsArePrivate([bucket({ uniformBucketLevelAccess: true, publicAccessPrevention: 'enforced' })]),
    ).toEqual([]);
  });
  it('rejects a bucket with object ACLs', () => {
    const v = bucketsArePrivate([
      bucket({ uniformBucketLevelAccess: false, publicAccessPrevention: 'enforced' }),
    ]);
    expect(v.map((x) => x.message)).toEqual(['uniformBucketLevelAccess must be true']);
  });
  it('rejects a bucket whose public access prevention is inherited or unset', () => {
    expect(
      bucketsArePrivate([bucket({ uniformBucketLevelAccess: true, publicAccessPrevention: 'inherited' })]),
    ).toHaveLength(1);
    expect(bucketsArePrivate([bucket({ uniformBucketLevelAccess: true })])).toHaveLength(1);
  });
});

describe('noPublicMembers', () => {
  it('accepts grants to service accounts', () => {
    expect(
      noPublicMembers([
        res('gcp:storage/bucketIAMMember:BucketIAMMember', {
          role: 'roles/storage.objectViewer',
          member: SA,
        }),
      ]),
    ).toEqual([]);
  });
  it.each(['allUsers', 'allAuthenticatedUsers'])('rejects a member grant to %s', (member) => {
    const v = noPublicMembers([
      res('gcp:storage/bucketIAMMember:BucketIAMMember', { role: 'roles/storage.objectViewer', member }),
    ]);
    expect(v[0]?.message).toBe(`grants roles/storage.objectViewer to ${member}`);
  });
  it('rejects allUsers inside a binding and inside a policy document', () => {
    const binding = res('gcp:cloudrunv2/serviceIamBinding:ServiceIamBinding', {
      role: 'roles/run.invoker',
      members: [SA, 'allUsers'],
    });
    const policy = res('gcp:storage/bucketIAMPolicy:BucketIAMPolicy', {
      policyData: JSON.stringify({
        bindings: [{ role: 'roles/storage.objectViewer', members: ['allAuthenticatedUsers'] }],
      }),
    });
    expect(noPublicMembers([binding, policy])).toHaveLength(2);
  });
});

describe('noPrimitiveRoles', () => {
  it('accepts predefined roles', () => {
    expect(
      noPrimitiveRoles([
        res('gcp:projects/iAMMember:IAMMember', { role: 'roles/logging.logWriter', member: SA }),
      ]),
    ).toEqual([]);
  });
  it.each(['roles/owner', 'roles/editor', 'roles/viewer'])('rejects %s at any scope', (role) => {
    expect(noPrimitiveRoles([res('gcp:projects/iAMMember:IAMMember', { role, member: SA })])).toHaveLength(1);
    expect(
      noPrimitiveRoles([res('gcp:storage/bucketIAMMember:BucketIAMMember', { role, member: SA })]),
    ).toHaveLength(1);
  });
  it('ignores resources that are not IAM grants', () => {
    expect(iamGrants(res('gcp:storage/bucket:Bucket', { role: 'roles/owner', member: SA }))).toEqual([]);
  });
});

describe('noComputeDefaultServiceAccount', () => {
  const fn = (over: Record<string, any>) =>
    res('gcp:cloudfunctionsv2/function:Function', {
      buildConfig: { serviceAccount: 'projects/p/serviceAccounts/b@p.iam.gserviceaccount.com' },
      serviceConfig: { serviceAccountEmail: 'f@p.iam.gserviceaccount.com' },
      ...over,
    });
  it('accepts a function with explicit runtime and build identities', () => {
    expect(noComputeDefaultServiceAccount([fn({})])).toEqual([]);
  });
  it('rejects a resource that names the Compute default SA anywhere', () => {
    const v = noComputeDefaultServiceAccount([
      res('gcp:projects/iAMMember:IAMMember', {
        role: 'roles/logging.logWriter',
        member: 'serviceAccount:1234-compute@developer.gserviceaccount.com',
      }),
    ]);
    expect(v[0]?.message).toBe('member uses the Compute default SA');
  });
  it('rejects a function that would fall back to it (no build or runtime SA)', () => {
    expect(noComputeDefaultServiceAccount([fn({ buildConfig: {} })])[0]?.message).toMatch(
      /buildConfig.serviceAccount is unset/,
    );
    expect(noComputeDefaultServiceAccount([fn({ serviceConfig: {} })])[0]?.message).toMatch(
      /serviceAccountEmail is unset/,
    );
    expect(noComputeDefaultServiceAccount([fn({ eventTrigger: { eventType: 'x' } })])[0]?.message).toMatch(
      /eventTrigger/,
    );
  });
  it('rejects a workflow, a VM template and a Cloud Run service without an identity', () => {
    const v = noComputeDefaultServiceAccount([
      res('gcp:workflows/workflow:Workflow', {}),
      res('gcp:compute/instanceTemplate:InstanceTemplate', { serviceAccount: { scopes: [] } }),
      res('gcp:cloudrunv2/service:Service', { template: {} }),
    ]);
    expect(v).toHaveLength(3);
  });
});

describe('sqlPrivateWithTls', () => {
  const sql = (ip: Record<string, any>) =>
    res('gcp:sql/databaseInstance:DatabaseInstance', { settings: { ipConfiguration: ip } });
  const good = {
    ipv4Enabled: false,
    privateNetwork: 'projects/p/global/networks/v',
    sslMode: 'ENCRYPTED_ONLY',
  };
  it('accepts a private instance that requires TLS', () => {
    expect(sqlPrivateWithTls([sql(good)])).toEqual([]);
  });
  it('rejects a public IP', () => {
    expect(sqlPrivateWithTls([sql({ ...good, ipv4Enabled: true })])[0]?.message).toMatch(/no public IP/);
    expect(sqlPrivateWithTls([sql({ ...good, ipv4Enabled: undefined })])).toHaveLength(1);
  });
  it('rejects unencrypted connections and authorized networks', () => {
    expect(
      sqlPrivateWithTls([sql({ ...good, sslMode: 'ALLOW_UNENCRYPTED_AND_ENCRYPTED' })])[0]?.message,
    ).toMatch(/sslMode/);
    expect(sqlPrivateWithTls([sql({ ...good, authorizedNetworks: [{ value: '0.0.0.0/0' }] })])).toHaveLength(
      1,
    );
  });
});

describe('vmsPrivateAndShielded', () => {
  const shielded = { enableSecureBoot: true, enableVtpm: true, enableIntegrityMonitoring: true };
  const vm = (inputs: Record<string, any>) => res('gcp:compute/instanceTemplate:InstanceTemplate', inputs);
  it('accepts a template without external IP and with Shielded VM', () => {
    expect(
      vmsPrivateAndShielded([
        vm({ networkInterfaces: [{ subnetwork: 's' }], shieldedInstanceConfig: shielded }),
      ]),
    ).toEqual([]);
  });
  it('rejects an external IP', () => {
    const v = vmsPrivateAndShielded([
      vm({ networkInterfaces: [{ subnetwork: 's', accessConfigs: [{}] }], shieldedInstanceConfig: shielded }),
    ]);
    expect(v[0]?.message).toBe('networkInterfaces[0] has an external IP (accessConfigs)');
  });
  it('rejects a VM without Secure Boot', () => {
    const v = vmsPrivateAndShielded([
      res('gcp:compute/instance:Instance', {
        networkInterfaces: [],
        shieldedInstanceConfig: { ...shielded, enableSecureBoot: false },
      }),
    ]);
    expect(v.map((x) => x.message)).toEqual(['shieldedInstanceConfig.enableSecureBoot must be true']);
  });
});

describe('servicesAuthenticated', () => {
  it('accepts an invoker grant to a service account', () => {
    expect(
      servicesAuthenticated([
        res('gcp:cloudrunv2/serviceIamMember:ServiceIamMember', { role: 'roles/run.invoker', member: SA }),
      ]),
    ).toEqual([]);
  });
  it('rejects a public invoker on a function or service', () => {
    expect(
      servicesAuthenticated([
        res('gcp:cloudrunv2/serviceIamMember:ServiceIamMember', {
          role: 'roles/run.invoker',
          member: 'allUsers',
        }),
      ]),
    ).toHaveLength(1);
    expect(
      servicesAuthenticated([
        res('gcp:cloudfunctionsv2/functionIamMember:FunctionIamMember', {
          role: 'roles/cloudfunctions.invoker',
          member: 'allUsers',
        }),
      ]),
    ).toHaveLength(1);
  });
  it('rejects a Cloud Run service with the IAM check disabled', () => {
    expect(
      servicesAuthenticated([res('gcp:cloudrunv2/service:Service', { invokerIamDisabled: true })])[0]
        ?.message,
    ).toMatch(/invokerIamDisabled/);
  });
});

describe('workflowSourceMatches', () => {
  const dir = mkdtempSync(join(tmpdir(), 'droptune-policy-'));
  const file = join(dir, 'pipeline.yaml');
  const text = `# é ✓\nmain:\n  steps:\n    - done:\n        return: \${sys.get_env("X")}\n`;
  writeFileSync(file, text);
  const wf = (sourceContents: unknown) => res('gcp:workflows/workflow:Workflow', { sourceContents });
  it('accepts a source equal to the file byte for byte', () => {
    expect(workflowSourceMatches(file)([wf(text)])).toEqual([]);
  });
  it('rejects a source that differs by one byte (trailing newline, CRLF)', () => {
    expect(workflowSourceMatches(file)([wf(text.trimEnd())])).toHaveLength(1);
    expect(workflowSourceMatches(file)([wf(text.replaceAll('\n', '\r\n'))])).toHaveLength(1);
  });
  it('rejects a stack without a workflow, and a missing file', () => {
    expect(workflowSourceMatches(file)([])[0]?.message).toBe('no gcp.workflows.Workflow in the stack');
    expect(workflowSourceMatches(join(dir, 'nope.yaml'))([wf(text)])[0]?.message).toMatch(/does not exist/);
  });
});

describe('workflowEnvValid', () => {
  const wf = (userEnvVars: Record<string, string>) => res('gcp:workflows/workflow:Workflow', { userEnvVars });
  it('accepts up to 20 variables', () => {
    expect(
      workflowEnvValid([wf(Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`V${i}`, 'x'])))]),
    ).toEqual([]);
  });
  it('rejects 21 variables and reserved prefixes', () => {
    expect(
      workflowEnvValid([wf(Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`V${i}`, 'x'])))]),
    ).toHaveLength(1);
    expect(workflowEnvValid([wf({ GOOGLE_X: '1', WORKFLOWS_Y: '2' })])).toHaveLength(2);
  });
});

describe('functionsRuntimeSupported', () => {
  const fn = (runtime: string) =>
    res('gcp:cloudfunctionsv2/function:Function', { buildConfig: { runtime } }, runtime);
  it('accepts a runtime before its decommission date', () => {
    expect(functionsRuntimeSupported('2026-12-07')([fn('nodejs22'), fn('nodejs24')])).toEqual([]);
  });
  it('rejects nodejs20 after 2026-10-30, naming the date', () => {
    expect(functionsRuntimeSupported('2026-12-07')([fn('nodejs20')])[0]?.message).toBe(
      'runtime nodejs20 was decommissioned on 2026-10-30: no create, no update',
    );
    expect(functionsRuntimeSupported('2026-10-29')([fn('nodejs20')])).toEqual([]);
  });
  it('rejects a runtime Google does not list', () => {
    expect(functionsRuntimeSupported('2026-12-07')([fn('nodejs21')])[0]?.message).toMatch(
      /nodejs21 is not in Cloud Run functions' Node.js schedule/,
    );
  });
});

describe('apisEnabled', () => {
  const api = (service: string) => res('gcp:projects/service:Service', { service }, service);
  const sa = res('gcp:serviceaccount/account:Account', { accountId: 'a' });
  const grant = res('gcp:projects/iAMMember:IAMMember', { role: 'roles/x', member: SA });
  it('accepts resources whose APIs are enabled', () => {
    expect(
      apisEnabled([api('iam.googleapis.com'), api('cloudresourcemanager.googleapis.com'), sa, grant]),
    ).toEqual([]);
  });
  it('names the API a service account and a project grant need', () => {
    expect(apisEnabled([sa, grant]).map((v) => v.message)).toEqual([
      'needs iam.googleapis.com, which the stack does not enable',
      'needs cloudresourcemanager.googleapis.com, which the stack does not enable',
    ]);
  });
  it('refuses a resource type it cannot place', () => {
    expect(apisEnabled([res('gcp:pubsub/topic:Topic', {})])[0]?.message).toMatch(
      /no API known for gcp:pubsub/,
    );
  });
});
