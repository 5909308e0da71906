/**
 * The real program (infra/index.ts) with default config, as `pulumi preview` on a fresh clone
 * would run it (no function bundle yet), against the mock cloud; then every policy over every
 * resource it would create.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_GRANTS } from './components/access.ts';
import { REQUIRED_SERVICES } from './components/project-services.ts';
import { envNamesRead } from './components/workflow.ts';
import { PIPELINE_PATH, requirePipeline, runStack, type StackRun } from './testing/stack-harness.ts';

let run: StackRun;
const project = 'acme-ml-prod';

beforeAll(async () => {
  requirePipeline();
  run = await runStack(
    { 'gcp:project': project, 'droptune:functionsBundleDir': '/nonexistent/droptune-bundles' },
    true,
  );
});

describe('default stack', () => {
  it('passes every policy', () => {
    expect(run.violations()).toEqual([]);
  });

  it('exports bucket names, the API URL, the workflow name and the upload command', () => {
    const o = run.outputs;
    expect(o.datasetsBucket).toBe(`${project}-droptune-datasets`);
    expect(o.modelsBucket).toBe(`${project}-droptune-models`);
    expect(o.controlApiUrl).toMatch(/^https:\/\/droptune-control-api-/);
    expect(o.workflowName).toBe('droptune-pipeline');
    expect(o.startRunCommand).toBe(
      `gcloud storage cp reviews.csv gs://${project}-droptune-datasets/<model-name>/reviews.csv`,
    );
    expect(o.trainerImage).toBe(`us-central1-docker.pkg.dev/${project}/droptune/trainer:latest`);
  });

  it('enables every API the stack calls', () => {
    expect(
      run
        .ofType('gcp:projects/service:Service')
        .map((s) => s.inputs.service)
        .sort(),
    ).toEqual([...REQUIRED_SERVICES].sort());
  });

  it('creates no optional feature by default', () => {
    expect(run.ofType('gcp:billing/budget:Budget')).toEqual([]);
    expect(run.ofType('gcp:kms/cryptoKey:CryptoKey')).toEqual([]);
    expect(run.ofType('gcp:compute/firewall:Firewall').map((f) => f.inputs.name)).toEqual([
      'droptune-deny-all-ingress',
    ]);
  });

  it('sets lifecycle rules: datasets cool down, run staging and reports expire, models are versioned', () => {
    const [datasets, models] = ['datasets', 'models'].map(
      (b) => run.ofType('gcp:storage/bucket:Bucket').find((x) => x.name === `storage-${b}`)!,
    );
    const classes = datasets!.inputs.lifecycleRules.filter((r: any) => r.action.type === 'SetStorageClass');
    expect(classes.map((r: any) => [r.action.storageClass, r.condition.age])).toEqual([
      ['NEARLINE', 30],
      ['COLDLINE', 90],
    ]);
    expect(models!.inputs.versioning).toEqual({ enabled: true });
    const deletes = models!.inputs.lifecycleRules.filter(
      (r: any) => r.action.type === 'Delete' && r.condition.matchesPrefixes,
    );
    expect(deletes.map((r: any) => [r.condition.matchesPrefixes, r.condition.age])).toEqual([
      [['runs/'], 7],
      [['reports/'], 90],
    ]);
  });

  it('runs onDatasetUploaded on finalize events of the datasets bucket, with retries', () => {
    const fn = run
      .ofType('gcp:cloudfunctionsv2/function:Function')
      .find((f) => f.inputs.name === 'droptune-on-dataset-uploaded')!;
    expect(fn.inputs.buildConfig).toMatchObject({ runtime: 'nodejs20', entryPoint: 'onDatasetUploaded' });
    expect(fn.inputs.eventTrigger).toMatchObject({
      eventType: 'google.cloud.storage.object.v1.finalized',
      retryPolicy: 'RETRY_POLICY_RETRY',
      eventFilters: [{ attribute: 'bucket', value: `${project}-droptune-datasets` }],
      serviceAccountEmail: `droptune-eventarc@${project}.iam.gserviceaccount.com`,
    });
    expect(fn.inputs.serviceConfig.ingressSettings).toBe('ALLOW_INTERNAL_ONLY');
  });

  it('gives the control API its database through the connector and an IAM user', () => {
    const api = run
      .ofType('gcp:cloudfunctionsv2/function:Function')
      .find((f) => f.inputs.name === 'droptune-control-api')!;
    expect(api.inputs.buildConfig.entryPoint).toBe('controlApi');
    expect(api.inputs.serviceConfig.environmentVariables).toMatchObject({
      INSTANCE_CONNECTION_NAME: `${project}:us-central1:droptune-db`,
      DROPTUNE_DB_USER: `droptune-control-api@${project}.iam`,
      DROPTUNE_DB_IP_TYPE: 'PRIVATE',
      DROPTUNE_DATASETS_BUCKET: `${project}-droptune-datasets`,
    });
    const users = run
      .ofType('gcp:sql/user:User')
      .map((u) => [u.inputs.name, u.inputs.type, u.inputs.databaseRoles ?? []])
      .sort((a, b) => String(a[0]).localeCompare(String(b[0])));
    expect(users).toEqual([
      // The migrating actor may create tables (PostgreSQL 15+ has no CREATE on public for others).
      [`droptune-control-api@${project}.iam`, 'CLOUD_IAM_SERVICE_ACCOUNT', ['cloudsqlsuperuser']],
      [`droptune-trigger@${project}.iam`, 'CLOUD_IAM_SERVICE_ACCOUNT', []],
    ]);
  });

  it('configures Cloud SQL with IAM auth, connection logs, backups and point-in-time recovery', () => {
    const [sql] = run.ofType('gcp:sql/databaseInstance:DatabaseInstance');
    const s = sql!.inputs.settings;
    expect(s.databaseFlags).toEqual([
      { name: 'cloudsql.iam_authentication', value: 'on' },
      { name: 'log_connections', value: 'on' },
      { name: 'log_disconnections', value: 'on' },
    ]);
    expect(s.backupConfiguration).toMatchObject({ enabled: true, pointInTimeRecoveryEnabled: true });
    expect(sql!.inputs.deletionProtection).toBe(true);
    expect(s.availabilityType).toBe('ZONAL');
  });

  it('uploads pipeline.yaml with exactly the env vars it reads', () => {
    const [wf] = run.ofType('gcp:workflows/workflow:Workflow');
    const names = envNamesRead(readFileSync(PIPELINE_PATH, 'utf8'));
    expect(Object.keys(wf!.inputs.userEnvVars).sort()).toEqual(names);
    expect(run.outputs.workflowEnvNames).toEqual(names);
  });

  it('grants project-level roles only from the documented table', () => {
    const allowed = new Set([...PROJECT_GRANTS.map((g) => g.role), 'roles/pubsub.publisher']);
    const roles = run.ofType('gcp:projects/iAMMember:IAMMember').map((m) => m.inputs.role);
    expect(roles.filter((r) => !allowed.has(r))).toEqual([]);
    const sqlGrants = run
      .ofType('gcp:projects/iAMMember:IAMMember')
      .filter((m) => m.inputs.role.startsWith('roles/cloudsql.'));
    for (const g of sqlGrants)
      expect(g.inputs.condition.expression).toContain(`projects/${project}/instances/droptune-db`);
  });

  it('lets the workflow act as the trainer and serving identities only', () => {
    const actAs = run
      .ofType('gcp:serviceaccount/iAMMember:IAMMember')
      .filter((m) => m.inputs.role === 'roles/iam.serviceAccountUser');
    expect(actAs.map((m) => [m.inputs.serviceAccountId.split('/').pop(), m.inputs.member]).sort()).toEqual([
      [
        `droptune-serving@${project}.iam.gserviceaccount.com`,
        `serviceAccount:droptune-workflow@${project}.iam.gserviceaccount.com`,
      ],
      [
        `droptune-trainer@${project}.iam.gserviceaccount.com`,
        `serviceAccount:droptune-workflow@${project}.iam.gserviceaccount.com`,
      ],
    ]);
  });
});
