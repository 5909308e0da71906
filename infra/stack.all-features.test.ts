/**
 * The real program with every optional feature on, as `pulumi up` runs it (bundle present):
 * CMEK, IAP SSH, HA database, budget, extra invokers, public prediction services behind the flag.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { hashDirectory } from './components/function-source.ts';
import { requirePipeline, runStack, type StackRun } from './testing/stack-harness.ts';

let run: StackRun;
let bundleRoot: string;
const project = 'acme-ml-dev';

beforeAll(async () => {
  requirePipeline();
  bundleRoot = mkdtempSync(join(tmpdir(), 'droptune-bundles-'));
  for (const name of ['on-dataset-uploaded', 'control-api']) {
    mkdirSync(join(bundleRoot, name));
    writeFileSync(join(bundleRoot, name, 'index.js'), `// ${name}\nexport {};\n`);
    writeFileSync(join(bundleRoot, name, 'package.json'), '{"type":"module","main":"index.js"}\n');
  }
  run = await runStack(
    {
      'gcp:project': project,
      'gcp:region': 'europe-west4',
      'droptune:zones': 'europe-west4-a,europe-west4-b',
      'droptune:functionsBundleDir': bundleRoot,
      'droptune:createCmekKey': 'true',
      'droptune:allowIapSsh': 'true',
      'droptune:dbHighAvailability': 'true',
      'droptune:dbDeletionProtection': 'false',
      'droptune:billingAccount': '012345-6789AB-CDEF01',
      'droptune:budgetAmount': '500',
      'droptune:apiInvokers': '["user:ops@example.com","group:ml@example.com"]',
      'droptune:servingInvokers': '["allUsers","group:analysts@example.com"]',
      'droptune:servingAllowUnauthenticated': 'true',
      'droptune:trainerImage': 'europe-west4-docker.pkg.dev/acme-ml-dev/droptune/trainer@sha256:abc',
      'droptune:gpuCount': '2',
      'droptune:gpuLadder': 'nvidia-tesla-t4:n1-standard-16,nvidia-l4:g2-standard-24',
      'droptune:vmImage': 'projects/acme-ml-dev/global/images/trainer-base',
      'droptune:secureBoot': 'true',
    },
    false,
  );
});

describe('stack with every optional feature', () => {
  it('passes every policy', () => {
    expect(run.violations()).toEqual([]);
  });

  it('encrypts every bucket with a created, rotated key the GCS agent may use', () => {
    const [key] = run.ofType('gcp:kms/cryptoKey:CryptoKey');
    expect(key!.inputs.rotationPeriod).toBe('7776000s');
    for (const b of run.ofType('gcp:storage/bucket:Bucket')) {
      expect(b.inputs.encryption.defaultKmsKeyName).toMatch(
        /keyRings\/droptune-keys\/cryptoKeys\/droptune-buckets$/,
      );
      expect(b.inputs.location).toBe('EUROPE-WEST4');
    }
    const [grant] = run.ofType('gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember');
    expect(grant!.inputs.member).toMatch(/^serviceAccount:service-\d+@gs-project-accounts/);
  });

  it('opens SSH from IAP only, to trainer VMs only', () => {
    const ssh = run
      .ofType('gcp:compute/firewall:Firewall')
      .find((f) => f.inputs.name === 'droptune-allow-iap-ssh')!;
    expect(ssh.inputs).toMatchObject({
      sourceRanges: ['35.235.240.0/20'],
      targetTags: ['droptune-trainer'],
      allows: [{ protocol: 'tcp', ports: ['22'] }],
    });
  });

  it('makes the database regional and deletable when asked', () => {
    const [sql] = run.ofType('gcp:sql/databaseInstance:DatabaseInstance');
    expect(sql!.inputs.settings.availabilityType).toBe('REGIONAL');
    expect(sql!.inputs.deletionProtection).toBe(false);
  });

  it('creates a budget on the project number with 50/80/100 % alerts', () => {
    const [b] = run.ofType('gcp:billing/budget:Budget');
    expect(b!.inputs.billingAccount).toBe('012345-6789AB-CDEF01');
    expect(b!.inputs.budgetFilter.projects).toEqual(['projects/123456789012']);
    expect(b!.inputs.amount.specifiedAmount).toEqual({ currencyCode: 'USD', units: '500' });
    expect(b!.inputs.thresholdRules.map((r: any) => r.thresholdPercent)).toEqual([0.5, 0.8, 1]);
  });

  it('lets the configured principals call the control API, and nobody else from outside', () => {
    const invokers = run
      .ofType('gcp:cloudrunv2/serviceIamMember:ServiceIamMember')
      .filter((m) => m.inputs.name.endsWith('droptune-control-api'));
    expect(invokers.map((m) => m.inputs.member).sort()).toEqual([
      'group:ml@example.com',
      `serviceAccount:droptune-control-api@${project}.iam.gserviceaccount.com`,
      `serviceAccount:droptune-trainer@${project}.iam.gserviceaccount.com`,
      `serviceAccount:droptune-workflow@${project}.iam.gserviceaccount.com`,
      'user:ops@example.com',
    ]);
  });

  it('uploads the bundles under content-addressed names', () => {
    const objects = run
      .ofType('gcp:storage/bucketObject:BucketObject')
      .map((o) => o.inputs.name)
      .sort();
    expect(objects).toEqual([
      `control-api-${hashDirectory(join(bundleRoot, 'control-api')).slice(0, 16)}.zip`,
      `on-dataset-uploaded-${hashDirectory(join(bundleRoot, 'on-dataset-uploaded')).slice(0, 16)}.zip`,
    ]);
  });

  it('hands the optional VM settings and public serving to the workflow', () => {
    const [wf] = run.ofType('gcp:workflows/workflow:Workflow');
    expect(wf!.inputs.userEnvVars).toMatchObject({
      TRAINER_IMAGE: 'europe-west4-docker.pkg.dev/acme-ml-dev/droptune/trainer@sha256:abc',
      ZONES: 'europe-west4-a,europe-west4-b',
      GPU_COUNT: '2',
      VM_IMAGE: 'projects/acme-ml-dev/global/images/trainer-base',
      SECURE_BOOT: 'true',
      ALLOW_UNAUTHENTICATED: 'true',
    });
    expect(Object.keys(wf!.inputs.userEnvVars)).toHaveLength(20);
  });

  it('grants serving invokers run.invoker on prediction services only, never allUsers by IAM here', () => {
    const grants = run
      .ofType('gcp:projects/iAMMember:IAMMember')
      .filter((m) => m.inputs.role === 'roles/run.invoker');
    expect(grants.map((g) => g.inputs.member)).toEqual([
      'group:analysts@example.com',
      `serviceAccount:droptune-control-api@${project}.iam.gserviceaccount.com`,
    ]);
    expect(grants[0]!.inputs.condition.expression).toContain('.startsWith("predict-")');
  });
});
