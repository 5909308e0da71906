/**
 * Who may do what, where: the stack's permission table in one place (the functions' invoker grants
 * are made with the functions, whose Cloud Run services they bind to).
 *
 * Rules it follows (and the policy tests check): predefined roles only, never owner/editor/viewer;
 * each grant at the narrowest scope GCP offers for it (bucket, service account, repository,
 * Cloud Run service); project-level only where no narrower scope exists, and then with an IAM
 * condition where GCP honours one. Each project-level grant says why it cannot be narrower.
 */
import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import { childOptions } from './child-options.ts';
import { CUSTOM_ROLE_GRANTS, customRoleId } from './custom-roles.ts';
import type { Actor, Identities } from './identities.ts';

export interface AccessArgs {
  /** Project the stack lives in. */
  project: pulumi.Input<string>;
  /** Region of the functions and repositories. */
  region: pulumi.Input<string>;
  /** The stack's service accounts. */
  identities: Identities;
  /** Bucket names. */
  datasetsBucket: pulumi.Input<string>;
  modelsBucket: pulumi.Input<string>;
  sourcesBucket: pulumi.Input<string>;
  /** Short prefix shared by the stack's resource names (custom role ids derive from it). */
  namePrefix: string;
  /** Cloud SQL instance name (IAM conditions restrict SQL roles to it). */
  sqlInstance: pulumi.Input<string>;
  /** Artifact Registry repository ids. */
  imagesRepository: pulumi.Input<string>;
  functionImagesRepository: pulumi.Input<string>;
}

type Grant = { actor: Actor; role: string; why: string };

/** Project-level grants: each role's permissions target resources that have no IAM policy of their own. */
export const PROJECT_GRANTS: (Grant & { sqlOnly?: boolean })[] = [
  {
    actor: 'eventarc',
    role: 'roles/eventarc.eventReceiver',
    why: 'event receipt is checked at project level only',
  },
  { actor: 'trigger', role: 'roles/workflows.invoker', why: 'Workflows has no per-workflow IAM policy' },
  {
    actor: 'trigger',
    role: 'roles/cloudsql.client',
    sqlOnly: true,
    why: 'Cloud SQL has no instance IAM; condition limits it to our instance',
  },
  {
    actor: 'trigger',
    role: 'roles/cloudsql.instanceUser',
    sqlOnly: true,
    why: 'IAM database login, limited to our instance',
  },
  {
    actor: 'control-api',
    role: 'roles/workflows.invoker',
    why: 'cancel/inspect executions; no per-workflow IAM',
  },
  { actor: 'control-api', role: 'roles/cloudsql.client', sqlOnly: true, why: 'as for the trigger' },
  { actor: 'control-api', role: 'roles/cloudsql.instanceUser', sqlOnly: true, why: 'as for the trigger' },
  {
    actor: 'workflow',
    role: 'roles/compute.instanceAdmin.v1',
    why: 'trainer VMs are created at run time, so no instance exists to bind on',
  },
  { actor: 'workflow', role: 'roles/logging.logWriter', why: 'workflow call logs' },
  {
    actor: 'workflow',
    role: 'roles/workflows.invoker',
    why: 'the reaper reads executions of its own workflow, and Cloud Scheduler starts the reaper as this identity; no per-workflow IAM',
  },
  { actor: 'trainer', role: 'roles/logging.logWriter', why: 'container logs from the VM' },
  { actor: 'trainer', role: 'roles/monitoring.metricWriter', why: 'GPU/VM metrics from the VM' },
  { actor: 'builder', role: 'roles/logging.logWriter', why: 'Cloud Build logs of function builds' },
];

/** Bucket-level grants; `prefix` limits one to the objects under it (an IAM condition on the object name). */
export const BUCKET_GRANTS: (Grant & { bucket: 'datasets' | 'models' | 'sources'; prefix?: string })[] = [
  {
    bucket: 'datasets',
    actor: 'trigger',
    role: 'roles/storage.objectViewer',
    why: 'stream-validate the dropped CSV',
  },
  { bucket: 'datasets', actor: 'control-api', role: 'roles/storage.objectViewer', why: 'dataset profiles' },
  {
    bucket: 'datasets',
    actor: 'control-api',
    role: 'roles/storage.objectCreator',
    why: 'signed upload URLs act as this identity',
  },
  { bucket: 'datasets', actor: 'trainer', role: 'roles/storage.objectViewer', why: 'read the training data' },
  {
    bucket: 'models',
    actor: 'trigger',
    role: 'roles/storage.objectCreator',
    prefix: 'reports/',
    why: 'write rejection reports (reports/<runId>.json), and nothing else in the models bucket',
  },
  { bucket: 'models', actor: 'control-api', role: 'roles/storage.objectViewer', why: 'verify manifests' },
  {
    bucket: 'models',
    actor: 'control-api',
    role: 'roles/storage.objectCreator',
    why: 'copy runs/<runId>/ to models/<model>/v<N>/ (create-only)',
  },
  {
    bucket: 'models',
    actor: 'trainer',
    role: 'roles/storage.objectViewer',
    why: 'read the champion model and its own checkpoints',
  },
  {
    bucket: 'models',
    actor: 'trainer',
    role: 'roles/storage.objectCreator',
    prefix: 'runs/',
    why: 'write runs/<runId>/ (create-only); registered versions under models/ are out of its reach',
  },
  {
    bucket: 'models',
    actor: 'workflow',
    role: 'roles/storage.objectViewer',
    why: 'read status objects and metrics for the gate',
  },
  {
    bucket: 'sources',
    actor: 'builder',
    role: 'roles/storage.objectViewer',
    why: 'read the uploaded bundle the function names as storageSource',
  },
];

/** Role the function builder holds on Google's gen2 source bucket (Google's build-service-account guide). */
export const BUILDER_SOURCES_ROLE = 'roles/storage.objectAdmin';

/** Google's bucket that gen2 builds read sources from: `gcf-v2-sources-<project number>-<region>`. */
export function gcfSourcesBucket(
  projectNumber: pulumi.Input<string>,
  region: pulumi.Input<string>,
): pulumi.Output<string> {
  return pulumi.interpolate`gcf-v2-sources-${projectNumber}-${region}`;
}

/** Actors of the stack that call the control API (invoker grants live with the functions). */
export const API_CALLERS: Actor[] = ['workflow', 'trainer'];

export class Access extends pulumi.ComponentResource {
  constructor(name: string, args: AccessArgs, opts?: pulumi.ComponentResourceOptions) {
    super('droptune:iam:Access', name, {}, opts);
    const child = () => childOptions(this, opts);
    const ids = args.identities;
    const slug = (role: string) => role.replace(/^roles\//, '').replace(/[^a-zA-Z0-9]+/g, '-');

    const sqlCondition = {
      title: 'droptune-sql-instance-only',
      description: 'Only the droptune Cloud SQL instance',
      expression: pulumi.interpolate`resource.name == "projects/${args.project}/instances/${args.sqlInstance}" && resource.service == "sqladmin.googleapis.com"`,
    };
    for (const g of PROJECT_GRANTS) {
      new gcp.projects.IAMMember(
        `${name}-${g.actor}-${slug(g.role)}`,
        {
          project: args.project,
          role: g.role,
          member: ids.member(g.actor),
          condition: g.sqlOnly ? sqlCondition : undefined,
        },
        child(),
      );
    }

    // Eventarc's Cloud Storage triggers publish through Pub/Sub as the GCS service agent.
    const gcsAgent = gcp.storage.getProjectServiceAccountOutput({ project: args.project }, { parent: this });
    new gcp.projects.IAMMember(
      `${name}-gcs-agent-pubsub-publisher`,
      {
        project: args.project,
        role: 'roles/pubsub.publisher',
        member: pulumi.interpolate`serviceAccount:${gcsAgent.emailAddress}`,
      },
      child(),
    );

    const buckets = { datasets: args.datasetsBucket, models: args.modelsBucket, sources: args.sourcesBucket };
    for (const g of BUCKET_GRANTS) {
      new gcp.storage.BucketIAMMember(
        `${name}-${g.bucket}-${g.actor}-${slug(g.role)}`,
        {
          bucket: buckets[g.bucket],
          role: g.role,
          member: ids.member(g.actor),
          condition: g.prefix
            ? {
                title: `droptune-${g.prefix.replace(/\W+/g, '')}-only`,
                description: `Only objects under ${g.prefix}`,
                expression: pulumi.interpolate`resource.name.startsWith("projects/_/buckets/${buckets[g.bucket]}/objects/${g.prefix}")`,
              }
            : undefined,
        },
        child(),
      );
    }

    // The workflow attaches exactly these two identities (VM, Cloud Run service), and no other.
    for (const target of ['trainer', 'serving'] as const) {
      new gcp.serviceaccount.IAMMember(
        `${name}-workflow-actas-${target}`,
        {
          serviceAccountId: ids.accounts[target].name,
          role: 'roles/iam.serviceAccountUser',
          member: ids.member('workflow'),
        },
        child(),
      );
    }
    // Signed upload URLs are signed by the control API's own identity (signBlob on itself only).
    new gcp.serviceaccount.IAMMember(
      `${name}-control-api-sign-self`,
      {
        serviceAccountId: ids.accounts['control-api'].name,
        role: 'roles/iam.serviceAccountTokenCreator',
        member: ids.member('control-api'),
      },
      child(),
    );

    new gcp.artifactregistry.RepositoryIamMember(
      `${name}-images-trainer-reader`,
      {
        project: args.project,
        location: args.region,
        repository: args.imagesRepository,
        role: 'roles/artifactregistry.reader',
        member: ids.member('trainer'),
      },
      child(),
    );
    for (const g of CUSTOM_ROLE_GRANTS) {
      const role = new gcp.projects.IAMCustomRole(
        `${name}-${g.key}-role`,
        {
          project: args.project,
          roleId: customRoleId(args.namePrefix, g.key),
          title: g.title,
          description: 'Only what droptune needs (infra/components/custom-roles.ts)',
          permissions: [...g.permissions],
          stage: 'GA',
        },
        child(),
      );
      new gcp.projects.IAMMember(
        `${name}-${g.actor}-${g.key}`,
        { project: args.project, role: role.name, member: ids.member(g.actor), condition: g.condition },
        child(),
      );
    }

    // Gen2 builds fetch the source from Google's own bucket `gcf-v2-sources-<number>-<region>` (with a
    // `-<hash>` suffix under CMEK), created on the first deploy, so no bucket binding can precede it.
    // Google's build-service-account guide asks for Storage Object Admin; a condition keeps it to that bucket.
    const number = gcp.organizations.getProjectOutput({ projectId: args.project }, { parent: this }).number;
    new gcp.projects.IAMMember(
      `${name}-builder-gcf-sources`,
      {
        project: args.project,
        role: BUILDER_SOURCES_ROLE,
        member: ids.member('builder'),
        condition: {
          title: 'droptune-gcf-v2-sources-only',
          description: "Only Cloud Functions' own gen2 source bucket of this region",
          expression: pulumi.interpolate`resource.name.startsWith("projects/_/buckets/${gcfSourcesBucket(number, args.region)}")`,
        },
      },
      child(),
    );

    new gcp.artifactregistry.RepositoryIamMember(
      `${name}-function-images-builder-writer`,
      {
        project: args.project,
        location: args.region,
        repository: args.functionImagesRepository,
        role: 'roles/artifactregistry.writer',
        member: ids.member('builder'),
      },
      child(),
    );

    this.registerOutputs({});
  }
}
