/**
 * The real program (infra/index.ts) with default config, as `pulumi preview` on a fresh clone
 * would run it (no function bundle yet), against the mock cloud; then every policy over every
 * resource it would create.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { envValueFits, PIPELINE_ENV } from '../shared/contracts/pipeline-env.ts';
import { BUILDER_SOURCES_ROLE, PROJECT_GRANTS } from './components/access.ts';
import { CUSTOM_ROLE_GRANTS, customRoleId, TRAINER_VM_PREFIX } from './components/custom-roles.ts';
import { REQUIRED_SERVICES } from './components/project-services.ts';
import { PREDICTION_SERVICE_PREFIX } from './components/serving.ts';
import { envNamesRead } from './components/workflow.ts';
import { vmInsertBodies } from './policies/workflow-vms.ts';
import { WORKFLOW_REQUIRED_ENV } from './program.ts';
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

  it('gives the policies something to judge', () => {
    const count = (t: string) => run.ofType(t).length;
    expect(count('gcp:storage/bucket:Bucket')).toBe(3);
    expect(count('gcp:sql/databaseInstance:DatabaseInstance')).toBe(1);
    expect(count('gcp:cloudfunctionsv2/function:Function')).toBe(2);
    expect(count('gcp:workflows/workflow:Workflow')).toBe(1);
    expect(count('gcp:storage/bucketIAMMember:BucketIAMMember')).toBeGreaterThan(5);
    expect(vmInsertBodies(readFileSync(PIPELINE_PATH, 'utf8')).length).toBeGreaterThan(0);
  });

  it('exports bucket names, the API URL, the workflow name and the upload command', () => {
    const o = run.outputs;
    expect(o.datasetsBucket).toBe(`${project}-droptune-datasets`);
    expect(o.modelsBucket).toBe(`${project}-droptune-models`);
    expect(o.controlApiUrl).toBe(`https://us-central1-${project}.cloudfunctions.net/droptune-control-api`);
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
    expect(fn.inputs.buildConfig).toMatchObject({ runtime: 'nodejs22', entryPoint: 'onDatasetUploaded' });
    expect(fn.inputs.eventTrigger).toMatchObject({
      eventType: 'google.cloud.storage.object.v1.finalized',
      retryPolicy: 'RETRY_POLICY_RETRY',
      eventFilters: [{ attribute: 'bucket', value: `${project}-droptune-datasets` }],
      serviceAccountEmail: `droptune-eventarc@${project}.iam.gserviceaccount.com`,
    });
    expect(fn.inputs.serviceConfig.ingressSettings).toBe('ALLOW_INTERNAL_ONLY');
  });

  it('gives both functions the environment shared/config.ts reads', () => {
    const fns = run.ofType('gcp:cloudfunctionsv2/function:Function');
    const api = fns.find((f) => f.inputs.name === 'droptune-control-api')!;
    const trigger = fns.find((f) => f.inputs.name === 'droptune-on-dataset-uploaded')!;
    expect(api.inputs.buildConfig.entryPoint).toBe('controlApi');
    const common = {
      INSTANCE_CONNECTION_NAME: `${project}:us-central1:droptune-db`,
      DB_NAME: 'droptune',
      DROPTUNE_STORAGE: 'gs',
      DATASETS_BUCKET: `${project}-droptune-datasets`,
      MODELS_BUCKET: `${project}-droptune-models`,
      GOOGLE_CLOUD_PROJECT: project,
      REGION: 'us-central1',
      WORKFLOW_NAME: 'droptune-pipeline',
    };
    expect(api.inputs.serviceConfig.environmentVariables).toMatchObject({
      ...common,
      DB_USER: `droptune-control-api@${project}.iam`,
      ALLOWED_INVOKERS: `droptune-workflow@${project}.iam.gserviceaccount.com,droptune-trainer@${project}.iam.gserviceaccount.com`,
      // The audience of its ID-token check: the URL callers use, which the deployed function reports.
      DROPTUNE_API_URL: run.outputs.controlApiUrl,
    });
    expect(trigger.inputs.serviceConfig.environmentVariables).toMatchObject({
      ...common,
      DB_USER: `droptune-trigger@${project}.iam`,
    });
  });

  it('creates an IAM database user for each function', () => {
    const users = run
      .ofType('gcp:sql/user:User')
      .map((u) => [u.inputs.name, u.inputs.type, u.inputs.databaseRoles])
      .sort((a, b) => String(a[0]).localeCompare(String(b[0])));
    expect(users).toEqual([
      [`droptune-control-api@${project}.iam`, 'CLOUD_IAM_SERVICE_ACCOUNT', ['cloudsqlsuperuser']],
      [`droptune-trigger@${project}.iam`, 'CLOUD_IAM_SERVICE_ACCOUNT', ['cloudsqlsuperuser']],
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

  it('passes the workflow the stack values pipeline.yaml reads, under its names', () => {
    const [wf] = run.ofType('gcp:workflows/workflow:Workflow');
    const read = new Set(envNamesRead(readFileSync(PIPELINE_PATH, 'utf8')));
    const env = wf!.inputs.userEnvVars as Record<string, string>;
    expect(Object.keys(env).filter((k) => !read.has(k))).toEqual([]);
    expect(Object.keys(env).length).toBeLessThanOrEqual(20);
    for (const k of WORKFLOW_REQUIRED_ENV) expect(env[k], k).toBeTruthy();
    // Names and value types of the one pipeline-environment table (shared/contracts/pipeline-env.ts).
    const table = new Map(PIPELINE_ENV.map((v) => [v.name, v]));
    for (const [k, v] of Object.entries(env)) {
      expect(table.has(k), `${k} is not in PIPELINE_ENV`).toBe(true);
      expect(envValueFits(table.get(k)!.type, v), `${k}=${v} is not a ${table.get(k)!.type}`).toBe(true);
    }
    for (const v of PIPELINE_ENV.filter((x) => x.required)) expect(env[v.name], v.name).toBeTruthy();
    expect(env).toMatchObject({
      DROPTUNE_API_URL: run.outputs.controlApiUrl,
      MODELS_BUCKET: `${project}-droptune-models`,
      TRAINER_SA: `droptune-trainer@${project}.iam.gserviceaccount.com`,
      SERVING_SA: `droptune-serving@${project}.iam.gserviceaccount.com`,
      SUBNETWORK: `projects/${project}/regions/us-central1/subnetworks/droptune-trainers`,
      ALLOW_UNAUTHENTICATED: 'false',
    });
    expect(wf!.inputs.serviceAccount).toBe(`droptune-workflow@${project}.iam.gserviceaccount.com`);
    expect(run.outputs.workflowEnvNames).toEqual(Object.keys(env).sort());
  });

  it('scopes serving invokers to the service names the pipeline deploys', () => {
    expect(readFileSync(PIPELINE_PATH, 'utf8')).toContain(`"${PREDICTION_SERVICE_PREFIX}" + modelName`);
  });

  it('limits trainer VM self-delete to the VM names the pipeline gives', () => {
    expect(readFileSync(PIPELINE_PATH, 'utf8')).toContain(`"${TRAINER_VM_PREFIX}" + safeRunId`);
  });

  it('grants project-level roles only from the documented table', () => {
    // Defaults: the documented table plus Eventarc's publisher grant to the GCS agent; no serving invokers.
    const allowed = new Set([
      ...PROJECT_GRANTS.map((g) => g.role),
      'roles/pubsub.publisher',
      BUILDER_SOURCES_ROLE,
      // Serving invokers: the control API's predict proxy, conditioned on predict-* services.
      'roles/run.invoker',
      ...CUSTOM_ROLE_GRANTS.map((g) => `projects/${project}/roles/${customRoleId('droptune', g.key)}`),
    ]);
    const roles = run.ofType('gcp:projects/iAMMember:IAMMember').map((m) => m.inputs.role);
    expect(roles.filter((r) => !allowed.has(r))).toEqual([]);
    const sqlGrants = run
      .ofType('gcp:projects/iAMMember:IAMMember')
      .filter((m) => m.inputs.role.startsWith('roles/cloudsql.'));
    for (const g of sqlGrants)
      expect(g.inputs.condition.expression).toContain(`projects/${project}/instances/droptune-db`);
  });

  it('lets only Eventarc invoke the trigger, only the workflow and trainer the API, and each function itself (Direct VPC)', () => {
    const invokers = (service: string) =>
      run
        .ofType('gcp:cloudrunv2/serviceIamMember:ServiceIamMember')
        .filter((m) => m.inputs.name.endsWith(`/services/${service}`))
        .map((m) => `${m.inputs.role} ${m.inputs.member}`)
        .sort();
    const sa = (a: string) => `serviceAccount:droptune-${a}@${project}.iam.gserviceaccount.com`;
    expect(invokers('droptune-on-dataset-uploaded')).toEqual([
      `roles/run.invoker ${sa('eventarc')}`,
      `roles/run.invoker ${sa('trigger')}`,
    ]);
    expect(invokers('droptune-control-api')).toEqual([
      `roles/run.invoker ${sa('control-api')}`,
      `roles/run.invoker ${sa('trainer')}`,
      `roles/run.invoker ${sa('workflow')}`,
    ]);
  });

  it('gives the workflow no run.admin: Cloud Run rights only through two custom roles, updates on predict-* only', () => {
    const grants = run
      .ofType('gcp:projects/iAMMember:IAMMember')
      .filter(
        (m) => m.inputs.member === `serviceAccount:droptune-workflow@${project}.iam.gserviceaccount.com`,
      );
    expect(grants.map((g) => g.inputs.role)).not.toContain('roles/run.admin');
    const roles = run.ofType('gcp:projects/iAMCustomRole:IAMCustomRole');
    const perms = (key: string) =>
      roles.find((r) => r.inputs.roleId === customRoleId('droptune', `prediction_${key}`))!.inputs
        .permissions;
    expect(perms('create')).toEqual(['run.services.create', 'run.operations.get']);
    expect(perms('manage')).toContain('run.services.setIamPolicy');
    const manage = grants.find(
      (g) => g.inputs.role === `projects/${project}/roles/droptune_prediction_manage`,
    )!;
    expect(manage.inputs.condition.expression).toContain('.startsWith("predict-")');
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

  it('schedules the reaper: pipeline.yaml {action: "reap"} through the Executions API, as the workflow identity', () => {
    const [job] = run.ofType('gcp:cloudscheduler/job:Job');
    expect(job).toBeDefined();
    const target = job!.inputs.httpTarget;
    expect(target.uri).toMatch(/^https:\/\/workflowexecutions\.googleapis\.com\/v1\/.+\/executions$/);
    const body = JSON.parse(Buffer.from(target.body, 'base64').toString('utf8'));
    expect(JSON.parse(body.argument)).toEqual({ action: 'reap' });
    expect(target.oauthToken.serviceAccountEmail).toBe(
      `droptune-workflow@${project}.iam.gserviceaccount.com`,
    );
  });
});
