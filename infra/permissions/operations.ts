/**
 * What each component of droptune does in the cloud, as IAM sees it: the operation, the resource
 * and the permissions Google checks for it (names from each API's reference). The permission twin
 * holds the stack's grants against this table; `FORBIDDEN` lists what an identity must never be
 * able to do, whatever a role happens to include.
 *
 * Registration target (stated here, implemented by the control API): create-only. The control API
 * holds objectCreator + objectViewer on the models bucket and never needs delete or overwrite
 * (overwriting an object requires storage.objects.delete); a failed attempt is left behind, not replaced.
 */

import type { Operation, Target, Verb } from './check.ts';
import type { Scope } from './grants.ts';

/** Names of the stack's resources the table refers to (read from the registered resources). */
export interface StackFacts {
  project: string;
  projectNumber: string;
  region: string;
  zone: string;
  buckets: { datasets: string; models: string; sources: string };
  /** Full Cloud Run service names of the two functions. */
  services: { trigger: string; api: string };
  workflow: string;
  sqlInstance: string;
  repositories: { images: string; functionImages: string };
  emails: { trainer: string; serving: string; 'control-api': string };
  /** The buckets' CMEK key, when the stack uses one. */
  cmekKey?: string;
  /** Configured principals (not stack identities) allowed to call the API / prediction services. */
  apiInvokers: string[];
  servingInvokers: string[];
}

const PREDICT_SERVICE = 'predict-tickets';

function targets(f: StackFacts) {
  const project: Scope = { kind: 'project', project: f.project };
  const object = (key: keyof StackFacts['buckets'] | 'gcf-v2-sources', path: string): Target => {
    const bucket =
      key === 'gcf-v2-sources' ? `gcf-v2-sources-${f.projectNumber}-${f.region}` : f.buckets[key];
    return {
      label: `${key} bucket object ${path}`,
      service: 'storage.googleapis.com',
      type: 'storage.googleapis.com/Object',
      name: `projects/_/buckets/${bucket}/objects/${path}`,
      // Google's own source bucket can hold no binding of ours: only project-level grants reach it.
      within: key === 'gcf-v2-sources' ? [project] : [project, { kind: 'bucket', bucket }],
    };
  };
  const runService = (name: string, label: string): Target => ({
    label,
    service: 'run.googleapis.com',
    type: 'run.googleapis.com/Service',
    name,
    within: [project, { kind: 'runService', name }],
  });
  const serviceAccount = (email: string): Target => ({
    label: `service account ${email}`,
    service: 'iam.googleapis.com',
    type: 'iam.googleapis.com/ServiceAccount',
    name: `projects/${f.project}/serviceAccounts/${email}`,
    within: [project, { kind: 'serviceAccount', email }],
  });
  const inProject = (label: string, service: string, type: string, name: string): Target => ({
    label,
    service,
    type,
    name,
    within: [project],
  });
  return {
    object,
    serviceAccount,
    trigger: runService(f.services.trigger, 'the onDatasetUploaded service'),
    api: runService(f.services.api, 'the control API service'),
    predict: runService(
      `projects/${f.project}/locations/${f.region}/services/${PREDICT_SERVICE}`,
      `prediction service ${PREDICT_SERVICE}`,
    ),
    project: inProject(
      'the project',
      'cloudresourcemanager.googleapis.com',
      'cloudresourcemanager.googleapis.com/Project',
      `projects/${f.project}`,
    ),
    workflow: inProject(
      'the pipeline workflow',
      'workflows.googleapis.com',
      'workflows.googleapis.com/Workflow',
      `projects/${f.project}/locations/${f.region}/workflows/${f.workflow}`,
    ),
    sql: inProject(
      'the Cloud SQL instance',
      'sqladmin.googleapis.com',
      'sqladmin.googleapis.com/Instance',
      `projects/${f.project}/instances/${f.sqlInstance}`,
    ),
    vm: inProject(
      'a trainer VM',
      'compute.googleapis.com',
      'compute.googleapis.com/Instance',
      `projects/${f.project}/zones/${f.zone}/instances/droptune-r1-1-0`,
    ),
    repo: (id: string): Target => ({
      label: `repository ${id}`,
      service: 'artifactregistry.googleapis.com',
      type: 'artifactregistry.googleapis.com/Repository',
      name: `projects/${f.project}/locations/${f.region}/repositories/${id}`,
      within: [project, { kind: 'repository', repository: id }],
    }),
    key: (key: string): Target => ({
      label: "the buckets' CMEK key",
      service: 'cloudkms.googleapis.com',
      type: 'cloudkms.googleapis.com/CryptoKey',
      name: key,
      within: [project, { kind: 'cryptoKey', key }],
    }),
  };
}

type Row = [actor: string, does: Verb, target: Target, permissions: string[], why: string];
const rows = (list: Row[]): Operation[] =>
  list.map(([actor, does, target, permissions, why]) => ({ actor, does, target, permissions, why }));

const SQL_LOGIN = ['cloudsql.instances.connect', 'cloudsql.instances.get', 'cloudsql.instances.login'];
const INVOKE = ['run.routes.invoke'];

/** Every operation the stack's identities perform. */
export function stackOperations(f: StackFacts): Operation[] {
  const t = targets(f);
  const version = t.object('models', `models/tickets/v1/model.onnx`);
  return rows([
    [
      'trigger',
      'read',
      t.object('datasets', 'tickets/reviews.csv'),
      ['storage.objects.get'],
      'stream-validate the drop and read droptune.json',
    ],
    [
      'trigger',
      'create',
      t.object('models', 'reports/r1.json'),
      ['storage.objects.create'],
      'write the rejection report',
    ],
    ['trigger', 'invoke', t.workflow, ['workflows.executions.create'], 'start the pipeline'],
    ['trigger', 'read', t.sql, SQL_LOGIN, 'IAM database login through the connector'],
    [
      'trigger',
      'invoke',
      t.trigger,
      INVOKE,
      'Direct VPC egress requires run.invoker for the function identity',
    ],
    [
      'control-api',
      'read',
      t.object('datasets', 'tickets/reviews.csv'),
      ['storage.objects.get'],
      'dataset profiles',
    ],
    [
      'control-api',
      'create',
      t.object('datasets', 'tickets/upload.csv'),
      ['storage.objects.create'],
      'signed upload URLs act as this identity',
    ],
    [
      'control-api',
      'sign',
      t.serviceAccount(f.emails['control-api']),
      ['iam.serviceAccounts.signBlob'],
      'sign V4 upload URLs',
    ],
    [
      'control-api',
      'read',
      t.object('models', 'runs/r1/manifest.json'),
      ['storage.objects.get', 'storage.objects.list'],
      'verify the run before registration',
    ],
    ['control-api', 'create', version, ['storage.objects.create'], 'registration copies the run create-only'],
    [
      'control-api',
      'invoke',
      t.workflow,
      ['workflows.executions.create', 'workflows.executions.get', 'workflows.executions.cancel'],
      'promote/rollback redeploy; cancel and inspect runs',
    ],
    ['control-api', 'read', t.sql, SQL_LOGIN, 'IAM database login through the connector'],
    [
      'control-api',
      'invoke',
      t.api,
      INVOKE,
      'Direct VPC egress requires run.invoker for the function identity',
    ],
    [
      'control-api',
      'invoke',
      t.predict,
      INVOKE,
      'the predict proxy calls prediction services with an ID token',
    ],
    ['workflow', 'invoke', t.api, INVOKE, 'run status, registration and the gate go through the control API'],
    [
      'workflow',
      'read',
      t.object('models', 'runs/r1/failure.json'),
      ['storage.objects.get'],
      "read the trainer's manifest and failure objects",
    ],
    [
      'workflow',
      'create',
      t.vm,
      [
        'compute.instances.create',
        'compute.disks.create',
        'compute.subnetworks.use',
        'compute.instances.setMetadata',
        'compute.instances.setServiceAccount',
        'compute.instances.setLabels',
      ],
      'start a trainer VM',
    ],
    [
      'workflow',
      'read',
      t.vm,
      ['compute.instances.get', 'compute.zoneOperations.get'],
      'watch the VM and its operations',
    ],
    [
      'workflow',
      'read',
      t.project,
      ['compute.instances.list'],
      'find leftover VMs by the droptune-run label',
    ],
    ['workflow', 'delete', t.vm, ['compute.instances.delete'], 'delete the VM on every path'],
    [
      'workflow',
      'actAs',
      t.serviceAccount(f.emails.trainer),
      ['iam.serviceAccounts.actAs'],
      'the VM runs as the trainer identity',
    ],
    [
      'workflow',
      'actAs',
      t.serviceAccount(f.emails.serving),
      ['iam.serviceAccounts.actAs'],
      'prediction services run as the serving identity',
    ],
    [
      'workflow',
      'create',
      t.predict,
      ['run.services.create', 'run.operations.get'],
      'first deploy of a model',
    ],
    [
      'workflow',
      'manage',
      t.predict,
      ['run.services.get', 'run.services.update', 'run.services.getIamPolicy', 'run.services.setIamPolicy'],
      'deploy a version; read-modify-write its invoker policy',
    ],
    ['workflow', 'write', t.project, ['logging.logEntries.create'], 'workflow call logs'],
    [
      'workflow',
      'invoke',
      t.workflow,
      ['workflows.executions.get', 'workflows.executions.create'],
      "the reaper checks that a run's execution is alive; Cloud Scheduler starts the reaper as this identity",
    ],
    [
      'trainer',
      'read',
      t.object('datasets', 'tickets/reviews.csv'),
      ['storage.objects.get'],
      'read the training data',
    ],
    ['trainer', 'read', version, ['storage.objects.get', 'storage.objects.list'], 'read the champion model'],
    [
      'trainer',
      'create',
      t.object('models', 'runs/r1/model.onnx'),
      ['storage.objects.create'],
      'write runs/<runId>/ create-only',
    ],
    ['trainer', 'invoke', t.api, INVOKE, 'metrics and status posts'],
    [
      'trainer',
      'write',
      t.project,
      ['logging.logEntries.create', 'monitoring.timeSeries.create'],
      'container logs and GPU metrics',
    ],
    [
      'trainer',
      'read',
      t.repo(f.repositories.images),
      ['artifactregistry.repositories.downloadArtifacts'],
      'pull the trainer image',
    ],
    [
      'trainer',
      'delete',
      t.vm,
      ['compute.instances.get', 'compute.instances.delete'],
      'the VM deletes itself when the trainer ends',
    ],
    [
      'serving',
      'read',
      version,
      ['storage.objects.get', 'storage.objects.list'],
      'load the registered version',
    ],
    [
      'builder',
      'read',
      t.object('gcf-v2-sources', 'control-api/function-source.zip'),
      ['storage.objects.get'],
      "gen2 builds fetch sources from Google's gcf-v2-sources bucket",
    ],
    [
      'builder',
      'read',
      t.object('sources', 'control-api-0123456789abcdef.zip'),
      ['storage.objects.get'],
      'the uploaded bundle the function names',
    ],
    [
      'builder',
      'create',
      t.repo(f.repositories.functionImages),
      ['artifactregistry.repositories.uploadArtifacts'],
      'push the function image',
    ],
    ['builder', 'write', t.project, ['logging.logEntries.create'], 'build logs'],
    ['eventarc', 'read', t.project, ['eventarc.events.receiveEvent'], 'receive the finalize events'],
    ['eventarc', 'invoke', t.trigger, INVOKE, 'deliver events to onDatasetUploaded'],
    [
      'gcs-agent',
      'write',
      t.project,
      ['pubsub.topics.publish'],
      "Eventarc's Cloud Storage triggers publish through Pub/Sub",
    ],
    ...(f.cmekKey
      ? ([
          [
            'gcs-agent',
            'read',
            t.key(f.cmekKey),
            ['cloudkms.cryptoKeyVersions.useToEncrypt', 'cloudkms.cryptoKeyVersions.useToDecrypt'],
            'encrypt and decrypt bucket objects',
          ],
        ] as Row[])
      : []),
    ...f.apiInvokers.map(
      (m): Row => [`operator:${m}`, 'invoke', t.api, INVOKE, 'configured droptune:apiInvokers'],
    ),
    ...f.servingInvokers
      .filter((m) => m !== 'allUsers' && m !== 'allAuthenticatedUsers')
      .map((m): Row => [`operator:${m}`, 'invoke', t.predict, INVOKE, 'configured droptune:servingInvokers']),
  ]);
}

/** What no identity may be able to do, whatever its roles include. */
export function forbiddenOperations(f: StackFacts): Operation[] {
  const t = targets(f);
  const version = t.object('models', 'models/tickets/v1/model.onnx');
  const immutable = 'registered versions are immutable';
  return rows([
    [
      'control-api',
      'delete',
      version,
      ['storage.objects.delete'],
      `${immutable}; registration is create-only`,
    ],
    [
      'control-api',
      'overwrite',
      t.object('models', 'runs/r1/model.onnx'),
      ['storage.objects.delete'],
      "a run's files are the trainer's; overwriting needs delete",
    ],
    ['trainer', 'create', version, ['storage.objects.create'], 'only registration writes versions'],
    ['trainer', 'delete', version, ['storage.objects.delete'], immutable],
    ['trigger', 'create', version, ['storage.objects.create'], 'only registration writes versions'],
    [
      'workflow',
      'manage',
      t.api,
      ['run.services.update', 'run.services.setIamPolicy'],
      "the functions are Pulumi's, not the pipeline's",
    ],
    [
      'workflow',
      'manage',
      t.trigger,
      ['run.services.update', 'run.services.setIamPolicy'],
      "the functions are Pulumi's, not the pipeline's",
    ],
    [
      'workflow',
      'actAs',
      t.serviceAccount(f.emails['control-api']),
      ['iam.serviceAccounts.actAs'],
      'it attaches the trainer and serving identities only',
    ],
    [
      'serving',
      'read',
      t.object('datasets', 'tickets/reviews.csv'),
      ['storage.objects.get'],
      'prediction services never see training data',
    ],
    ['trainer', 'manage', t.predict, ['run.services.update'], 'the trainer never deploys'],
  ]);
}
