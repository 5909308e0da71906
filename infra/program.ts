/**
 * The droptune stack: one component per concern, wired in the order the flow needs them.
 * `index.ts` calls {@link createDroptune} with the stack's config and exports its outputs; tests
 * call it after `pulumi.runtime.setMocks`.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as pulumi from '@pulumi/pulumi';
import { Access, API_CALLERS } from './components/access.ts';
import { Budget } from './components/budget.ts';
import { Database, iamDatabaseUser } from './components/database.ts';
import { Functions, functionUrl } from './components/functions.ts';
import { Identities } from './components/identities.ts';
import { Network } from './components/network.ts';
import { ProjectServices } from './components/project-services.ts';
import { Registry } from './components/registry.ts';
import { Serving } from './components/serving.ts';
import { Storage } from './components/storage.ts';
import { Workflow } from './components/workflow.ts';
import type { DroptuneConfig } from './config.ts';

/** Repository root: relative config paths (bundle dir, pipeline file) resolve against it, not the cwd. */
export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** What only the stack can deliver to the pipeline; pipeline.yaml must read each of these. */
export const WORKFLOW_REQUIRED_ENV = [
  'DROPTUNE_API_URL',
  'MODELS_BUCKET',
  'TRAINER_IMAGE',
  'TRAINER_SA',
  'SERVING_IMAGE',
  'SERVING_SA',
  'SUBNETWORK',
] as const;

/** Variables not passed when the source reads their replacement (the ladder replaces one VM shape). */
export const SUPERSEDED_ENV: Readonly<Record<string, string>> = {
  MACHINE_TYPE: 'GPU_LADDER',
  GPU_TYPE: 'GPU_LADDER',
};

export interface DroptuneOutputs {
  datasetsBucket: pulumi.Output<string>;
  modelsBucket: pulumi.Output<string>;
  controlApiUrl: pulumi.Output<string>;
  workflowName: pulumi.Output<string>;
  /** What a user types to start a run. */
  startRunCommand: pulumi.Output<string>;
  imagesRepository: pulumi.Output<string>;
  trainerImage: pulumi.Output<string>;
  servingImage: pulumi.Output<string>;
  sqlConnectionName: pulumi.Output<string>;
  serviceAccounts: pulumi.Output<Record<string, string>>;
  /** The env var names passed to the workflow (what pipeline.yaml reads). */
  workflowEnvNames: string[];
}

export function createDroptune(cfg: DroptuneConfig): DroptuneOutputs {
  const { project, region, namePrefix: prefix } = cfg;
  const services = new ProjectServices('services', { project });
  const after = { dependsOn: services.enabled };

  const storage = new Storage(
    'storage',
    {
      project,
      region,
      namePrefix: prefix,
      datasetsNearlineAfterDays: cfg.datasetsNearlineAfterDays,
      datasetsColdlineAfterDays: cfg.datasetsColdlineAfterDays,
      runsExpireAfterDays: cfg.runsExpireAfterDays,
      reportsExpireAfterDays: cfg.reportsExpireAfterDays,
      modelsNoncurrentExpireAfterDays: cfg.modelsNoncurrentExpireAfterDays,
      cmekKeyName: cfg.cmekKeyName,
      createCmekKey: cfg.createCmekKey,
    },
    after,
  );
  const network = new Network(
    'network',
    {
      project,
      region,
      namePrefix: prefix,
      subnetCidr: cfg.subnetCidr,
      privateServicesPrefixLength: cfg.privateServicesPrefixLength,
      allowIapSsh: cfg.allowIapSsh,
    },
    after,
  );
  const ids = new Identities('identities', { project, namePrefix: prefix }, after);
  const registry = new Registry(
    'registry',
    { project, region, namePrefix: prefix, trainerImage: cfg.trainerImage, servingImage: cfg.servingImage },
    after,
  );
  const db = new Database(
    'database',
    {
      project,
      region,
      namePrefix: prefix,
      network: network.network.id,
      tier: cfg.dbTier,
      databaseVersion: cfg.dbVersion,
      databaseName: cfg.dbName,
      highAvailability: cfg.dbHighAvailability,
      deletionProtection: cfg.dbDeletionProtection,
      backupRetainedCount: cfg.dbBackupRetainedCount,
      transactionLogRetentionDays: cfg.dbTransactionLogRetentionDays,
      // Both functions open the database through shared/db (which migrates), so both need to create
      // and use the schema: membership in cloudsqlsuperuser, with objects owned by that shared role.
      iamUsers: [
        { actor: 'control-api', email: ids.email('control-api'), databaseRoles: ['cloudsqlsuperuser'] },
        { actor: 'trigger', email: ids.email('trigger'), databaseRoles: ['cloudsqlsuperuser'] },
      ],
    },
    { dependsOn: [...services.enabled, network.privateServicesConnection] },
  );

  // Before the functions: their builds need the builder's grants, their first requests the runtime ones.
  const access = new Access(
    'access',
    {
      project,
      region,
      namePrefix: prefix,
      identities: ids,
      datasetsBucket: storage.datasetsBucket.name,
      modelsBucket: storage.modelsBucket.name,
      sourcesBucket: storage.sourcesBucket.name,
      sqlInstance: db.instance.name,
      imagesRepository: registry.images.repositoryId,
      functionImagesRepository: registry.functionImages.repositoryId,
    },
    after,
  );

  // Function environment: the names shared/config.ts reads.
  const workflowName = `${prefix}-pipeline`;
  const dbUser = (actor: 'trigger' | 'control-api') => ids.email(actor).apply(iamDatabaseUser);
  const commonEnv = {
    GOOGLE_CLOUD_PROJECT: project,
    REGION: region,
    WORKFLOW_NAME: workflowName,
    DROPTUNE_STORAGE: 'gs',
    DATASETS_BUCKET: storage.datasetsBucket.name,
    MODELS_BUCKET: storage.modelsBucket.name,
    INSTANCE_CONNECTION_NAME: db.connectionName,
    DB_NAME: cfg.dbName,
    LOG_JSON: 'true',
  };
  const apiUrl = functionUrl(region, project, `${prefix}-control-api`);
  // Identities whose Google-signed ID tokens the control API accepts (emails; groups cannot be matched).
  const allowedInvokers = pulumi
    .all([ids.email('workflow'), ids.email('trainer')])
    .apply((own) =>
      [
        ...own,
        ...cfg.apiInvokers
          .filter((m) => /^(user|serviceAccount):/.test(m))
          .map((m) => m.replace(/^[a-zA-Z]+:/, '')),
      ].join(','),
    );
  const functions = new Functions(
    'functions',
    {
      project,
      region,
      namePrefix: prefix,
      bundleRoot: resolve(REPO_ROOT, cfg.functionsBundleDir),
      sourcesBucket: storage.sourcesBucket.name,
      dockerRepository: registry.functionImages.id,
      builderServiceAccount: ids.accounts.builder.name,
      network: network.network.id,
      subnetwork: network.subnet.id,
      datasetsBucket: storage.datasetsBucket.name,
      triggerServiceAccount: ids.email('trigger'),
      eventarcServiceAccount: ids.email('eventarc'),
      apiServiceAccount: ids.email('control-api'),
      triggerEnvironment: { ...commonEnv, DB_USER: dbUser('trigger') },
      // Its own URL is the audience its ID-token check expects.
      apiEnvironment: {
        ...commonEnv,
        DB_USER: dbUser('control-api'),
        ALLOWED_INVOKERS: allowedInvokers,
        DROPTUNE_API_URL: apiUrl,
      },
      // Direct VPC egress requires run.invoker for the function's own identity (Google's Direct VPC
      // egress guide for 2nd gen functions); granted on its own service only.
      triggerInvokers: { eventarc: ids.member('eventarc'), 'direct-vpc-self': ids.member('trigger') },
      apiInvokers: {
        'direct-vpc-self': ids.member('control-api'),
        ...Object.fromEntries(API_CALLERS.map((actor) => [actor, ids.member(actor)])),
        ...Object.fromEntries(cfg.apiInvokers.map((m) => [m, m])),
      },
      triggerMaxInstances: cfg.triggerMaxInstances,
      apiMaxInstances: cfg.apiMaxInstances,
    },
    { dependsOn: [...services.enabled, db.database, access] },
  );

  const serving = new Serving(
    'serving',
    {
      project,
      modelsBucket: storage.modelsBucket.name,
      servingMember: ids.member('serving'),
      invokers: cfg.servingInvokers,
      allowUnauthenticated: cfg.servingAllowUnauthenticated,
      // The control API's predict proxy calls prediction services with its own ID token.
      stackInvokers: { 'control-api': ids.member('control-api') },
    },
    after,
  );

  // The workflow's environment, under the names workflows/pipeline.yaml reads (its header lists them).
  // Optional keys are passed only when set, so the pipeline's own defaults apply otherwise.
  const workflowEnv: Record<string, pulumi.Input<string>> = {
    DROPTUNE_API_URL: apiUrl,
    MODELS_BUCKET: storage.modelsBucket.name,
    TRAINER_IMAGE: registry.trainerImage,
    TRAINER_SA: ids.email('trainer'),
    SERVING_IMAGE: registry.servingImage,
    SERVING_SA: ids.email('serving'),
    SUBNETWORK: network.subnet.id,
    ZONES: cfg.zones.join(','),
    // The capacity ladder, in order: [{gpuType, machineType, gpuCount, memoryGb}] (infra/data/gpus.ts).
    GPU_LADDER: JSON.stringify(cfg.ladder),
    // The ladder's first rung for a pipeline that predates GPU_LADDER (dropped when it reads GPU_LADDER).
    MACHINE_TYPE: cfg.ladder[0]!.machineType,
    GPU_TYPE: cfg.ladder[0]!.gpuType,
    // GPUs per VM on N1 rungs (guestAccelerators); accelerator-optimized rungs carry theirs in GPU_LADDER.
    GPU_COUNT: String(cfg.gpuCount),
    BOOT_DISK_TYPE: cfg.bootDiskType,
    ALLOW_ON_DEMAND: String(cfg.allowOnDemand),
    MAX_RUN_SECONDS: String(cfg.maxRunSeconds),
    GPU_PRICE_PER_HOUR: String(cfg.gpuPricePerHour),
    GATE_METRIC: cfg.gateMetric,
    GATE_MIN: String(cfg.gateMin),
    GATE_MARGIN: String(cfg.gateMargin),
    ALLOW_UNAUTHENTICATED: serving.allowUnauthenticated,
  };
  // Cloud Workflows allows 20 variables: those the source reads, less the superseded ones, must fit.
  const optionalEnv = { VM_IMAGE: cfg.vmImage, SECURE_BOOT: cfg.secureBoot };
  for (const [k, v] of Object.entries(optionalEnv)) if (v !== undefined) workflowEnv[k] = String(v);
  const workflow = new Workflow(
    'workflow',
    {
      project,
      region,
      namePrefix: prefix,
      sourcePath: resolve(REPO_ROOT, cfg.pipelineFile),
      env: workflowEnv,
      requiredEnv: WORKFLOW_REQUIRED_ENV,
      supersededBy: SUPERSEDED_ENV,
      serviceAccount: ids.email('workflow'),
    },
    after,
  );

  if (cfg.billingAccount) {
    new Budget(
      'budget',
      {
        billingAccount: cfg.billingAccount,
        project,
        amount: cfg.budgetAmount,
        currency: cfg.budgetCurrency,
        namePrefix: prefix,
      },
      after,
    );
  }

  return {
    datasetsBucket: storage.datasetsBucket.name,
    modelsBucket: storage.modelsBucket.name,
    controlApiUrl: apiUrl,
    workflowName: workflow.workflow.name,
    startRunCommand: pulumi.interpolate`gcloud storage cp reviews.csv gs://${storage.datasetsBucket.name}/<model-name>/reviews.csv`,
    imagesRepository: registry.imagesUrl,
    trainerImage: registry.trainerImage,
    servingImage: registry.servingImage,
    sqlConnectionName: db.connectionName,
    serviceAccounts: pulumi.output(
      Object.fromEntries(Object.entries(ids.accounts).map(([k, sa]) => [k, sa.email])),
    ),
    workflowEnvNames: workflow.envNames,
  };
}
