/**
 * Reads, from the resources the program registered, the names the operations table refers to and
 * who each IAM member is, so the table holds no second copy of the stack's naming rules.
 */
import type { PolicyResource } from '../policies/policies.ts';
import type { StackFacts } from './operations.ts';

function one(resources: PolicyResource[], type: string, name: string): PolicyResource {
  const r = resources.find((x) => x.type === type && x.name === name);
  if (!r) throw new Error(`the stack registered no ${type} named ${name}`);
  return r;
}

const email = (account: PolicyResource) =>
  `${account.inputs.accountId}@${account.inputs.project}.iam.gserviceaccount.com`;

export function stackFacts(
  resources: PolicyResource[],
  projectNumber: string,
  invokers: { apiInvokers: string[]; servingInvokers: string[] },
): StackFacts {
  const bucket = (k: string) => one(resources, 'gcp:storage/bucket:Bucket', `storage-${k}`).inputs;
  const fn = (k: string) => one(resources, 'gcp:cloudfunctionsv2/function:Function', `functions-${k}`).inputs;
  const service = (k: string) =>
    `projects/${fn(k).project}/locations/${fn(k).location}/services/${fn(k).name}`;
  const account = (a: string) =>
    email(one(resources, 'gcp:serviceaccount/account:Account', `identities-${a}`));
  const repo = (k: string) =>
    one(resources, 'gcp:artifactregistry/repository:Repository', `registry-${k}`).inputs;
  const workflow = one(resources, 'gcp:workflows/workflow:Workflow', 'workflow-pipeline').inputs;
  return {
    project: bucket('models').project,
    projectNumber,
    region: fn('control-api').location,
    zone: String(workflow.userEnvVars.ZONES).split(',')[0]!,
    buckets: {
      datasets: bucket('datasets').name,
      models: bucket('models').name,
      sources: bucket('sources').name,
    },
    services: { trigger: service('on-dataset-uploaded'), api: service('control-api') },
    workflow: workflow.name,
    sqlInstance: one(resources, 'gcp:sql/databaseInstance:DatabaseInstance', 'database-instance').inputs.name,
    repositories: {
      images: repo('images').repositoryId,
      functionImages: repo('function-images').repositoryId,
    },
    emails: {
      trainer: account('trainer'),
      serving: account('serving'),
      'control-api': account('control-api'),
    },
    cmekKey: bucket('models').encryption?.defaultKmsKeyName,
    ...invokers,
  };
}

/**
 * Who an IAM member is: a stack actor (by its service account's logical name), the Cloud Storage
 * service agent, or a configured principal (`operator:<member>`).
 */
export function actorResolver(resources: PolicyResource[]): (member: string) => string {
  const actors = new Map(
    resources
      .filter((r) => r.type === 'gcp:serviceaccount/account:Account')
      .map((r) => [`serviceAccount:${email(r)}`, r.name.replace(/^identities-/, '')]),
  );
  return (member) =>
    actors.get(member) ??
    (/^serviceAccount:service-\d+@gs-project-accounts\.iam\.gserviceaccount\.com$/.test(member)
      ? 'gcs-agent'
      : `operator:${member}`);
}
