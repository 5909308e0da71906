/**
 * The droptune stack: one component per concern, wired in the order the flow needs them.
 * `index.ts` calls {@link createDroptune} with the stack's config and exports its outputs; tests
 * call it after `pulumi.runtime.setMocks`.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as pulumi from '@pulumi/pulumi';
import { Access } from './components/access.ts';
import { Budget } from './components/budget.ts';
import { Database, iamDatabaseUser } from './components/database.ts';
import { Functions } from './components/functions.ts';
import { Identities } from './components/identities.ts';
import { Network } from './components/network.ts';
import { ProjectServices } from './components/project-services.ts';
import { Registry } from './components/registry.ts';
import { Serving } from './components/serving.ts';
import { Storage } from './components/storage.ts';
import { TrainerTemplate } from './components/trainer-template.ts';
import { Workflow } from './components/workflow.ts';
import type { DroptuneConfig } from './config.ts';

/** Repository root: relative config paths (bundle dir, pipeline file) resolve against it, not the cwd. */
export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

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
  trainerTemplate: pulumi.Output<string>;
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
      iamUsers: [
        // The control API runs the migrations, so it may create tables; the trigger gets table grants from them.
        { actor: 'control-api', email: ids.email('control-api'), databaseRoles: ['cloudsqlsuperuser'] },
        { actor: 'trigger', email: ids.email('trigger') },
      ],
    },
    { dependsOn: [...services.enabled, network.privateServicesConnection] },
  );

  const workflowName = `${prefix}-pipeline`;
  const workflowId = pulumi.interpolate`projects/${project}/locations/${region}/workflows/${workflowName}`;
  const dbUser = (actor: 'trigger' | 'control-api') => ids.email(actor).apply(iamDatabaseUser);
  const commonEnv = {
    DROPTUNE_PROJECT_ID: project,
    DROPTUNE_REGION: region,
    DROPTUNE_DATASETS_BUCKET: storage.datasetsBucket.name,
    DROPTUNE_MODELS_BUCKET: storage.modelsBucket.name,
    DROPTUNE_WORKFLOW: workflowId,
    INSTANCE_CONNECTION_NAME: db.connectionName,
    DROPTUNE_DB_NAME: cfg.dbName,
    DROPTUNE_DB_IP_TYPE: 'PRIVATE',
  };
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
      triggerEnvironment: { ...commonEnv, DROPTUNE_DB_USER: dbUser('trigger') },
      apiEnvironment: {
        ...commonEnv,
        DROPTUNE_DB_USER: dbUser('control-api'),
        // Service accounts whose ID tokens the API accepts besides its IAM front door (defence in depth).
        DROPTUNE_ALLOWED_INVOKERS: pulumi
          .all([ids.email('workflow'), ids.email('trainer'), ...cfg.apiInvokers])
          .apply((members) => members.map((m) => m.replace(/^[a-zA-Z]+:/, '')).join(',')),
        DROPTUNE_SIGNER_SERVICE_ACCOUNT: ids.email('control-api'),
      },
      triggerMaxInstances: cfg.triggerMaxInstances,
      apiMaxInstances: cfg.apiMaxInstances,
    },
    { dependsOn: [...services.enabled, db.database] },
  );

  const serving = new Serving(
    'serving',
    {
      modelsBucket: storage.modelsBucket.name,
      servingMember: ids.member('serving'),
      invokers: cfg.servingInvokers,
      allowUnauthenticated: cfg.servingAllowUnauthenticated,
    },
    after,
  );
  const trainer = new TrainerTemplate(
    'trainer',
    {
      project,
      namePrefix: prefix,
      subnetwork: network.subnet.id,
      serviceAccountEmail: ids.email('trainer'),
      machineType: cfg.machineType,
      gpuType: cfg.gpuType,
      gpuCount: cfg.gpuCount,
      bootImage: cfg.trainerBootImage,
      maxRunSeconds: cfg.maxRunSeconds,
    },
    after,
  );

  new Access(
    'access',
    {
      project,
      region,
      identities: ids,
      datasetsBucket: storage.datasetsBucket.name,
      modelsBucket: storage.modelsBucket.name,
      sourcesBucket: storage.sourcesBucket.name,
      sqlInstance: db.instance.name,
      imagesRepository: registry.images.repositoryId,
      functionImagesRepository: registry.functionImages.repositoryId,
      triggerService: functions.triggerService,
      apiService: functions.apiService,
      apiInvokers: cfg.apiInvokers,
    },
    after,
  );

  // Everything the pipeline may read with sys.get_env; only the names pipeline.yaml uses are passed.
  // Each is offered plain and DROPTUNE_-prefixed, so the YAML may follow either naming.
  const plainEnv: Record<string, pulumi.Input<string>> = {
    API_URL: functions.apiUrl,
    DATASETS_BUCKET: storage.datasetsBucket.name,
    MODELS_BUCKET: storage.modelsBucket.name,
    TRAINER_IMAGE: registry.trainerImage,
    SERVING_IMAGE: registry.servingImage,
    ZONES: cfg.zones.join(','),
    MACHINE_TYPE: cfg.machineType,
    GPU_TYPE: cfg.gpuType,
    GPU_COUNT: String(cfg.gpuCount),
    ALLOW_ON_DEMAND: String(cfg.allowOnDemand),
    MAX_RUN_SECONDS: String(cfg.maxRunSeconds),
    GPU_PRICE_PER_HOUR: String(cfg.gpuPricePerHour),
    GATE_METRIC: cfg.gateMetric,
    GATE_MIN: String(cfg.gateMin),
    GATE_MARGIN: String(cfg.gateMargin),
    TRAINER_SA: ids.email('trainer'),
    SERVING_SA: ids.email('serving'),
    SERVING_INVOKERS: serving.invokers.join(','),
    SERVING_ALLOW_UNAUTHENTICATED: String(cfg.servingAllowUnauthenticated),
    TRAINER_TEMPLATE: trainer.selfLink,
    NETWORK: network.network.id,
    SUBNETWORK: network.subnet.id,
    PROJECT_ID: project,
    REGION: region,
  };
  const availableEnv = Object.fromEntries(
    Object.entries(plainEnv).flatMap(([k, v]) => [[k, v] as const, [`DROPTUNE_${k}`, v] as const]),
  );
  const workflow = new Workflow(
    'workflow',
    {
      project,
      region,
      namePrefix: prefix,
      sourcePath: resolve(REPO_ROOT, cfg.pipelineFile),
      availableEnv,
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
    controlApiUrl: functions.apiUrl,
    workflowName: workflow.workflow.name,
    startRunCommand: pulumi.interpolate`gcloud storage cp reviews.csv gs://${storage.datasetsBucket.name}/<model-name>/reviews.csv`,
    imagesRepository: registry.imagesUrl,
    trainerImage: registry.trainerImage,
    servingImage: registry.servingImage,
    sqlConnectionName: db.connectionName,
    trainerTemplate: trainer.selfLink,
    serviceAccounts: pulumi.output(
      Object.fromEntries(Object.entries(ids.accounts).map(([k, sa]) => [k, sa.email])),
    ),
    workflowEnvNames: workflow.envNames,
  };
}
