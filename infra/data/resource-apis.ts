/**
 * Which Google API serves each Pulumi resource type the stack creates (from each resource's REST
 * reference). A resource whose API is not enabled fails on a fresh project with SERVICE_DISABLED,
 * so the stack is checked against this table; a type missing here fails the check until it is added.
 */
export const RESOURCE_APIS: readonly { type: RegExp; apis: readonly string[] }[] = [
  { type: /^gcp:storage\//, apis: ['storage.googleapis.com'] },
  { type: /^gcp:compute\//, apis: ['compute.googleapis.com'] },
  { type: /^gcp:servicenetworking\//, apis: ['servicenetworking.googleapis.com'] },
  { type: /^gcp:sql\//, apis: ['sqladmin.googleapis.com'] },
  // Service accounts, their IAM policies and custom roles live in the IAM API.
  { type: /^gcp:serviceaccount\//, apis: ['iam.googleapis.com'] },
  { type: /^gcp:projects\/iAMCustomRole:/, apis: ['iam.googleapis.com'] },
  // Project IAM policies are read and written through projects.getIamPolicy/setIamPolicy.
  { type: /^gcp:projects\/iAMMember:/, apis: ['cloudresourcemanager.googleapis.com'] },
  { type: /^gcp:projects\/service:/, apis: [] },
  { type: /^gcp:artifactregistry\//, apis: ['artifactregistry.googleapis.com'] },
  // A gen2 function is built by Cloud Build into a Cloud Run service; event functions add Eventarc.
  {
    type: /^gcp:cloudfunctionsv2\//,
    apis: ['cloudfunctions.googleapis.com', 'run.googleapis.com', 'cloudbuild.googleapis.com'],
  },
  { type: /^gcp:cloudrunv2\//, apis: ['run.googleapis.com'] },
  { type: /^gcp:workflows\//, apis: ['workflows.googleapis.com'] },
  { type: /^gcp:cloudscheduler\//, apis: ['cloudscheduler.googleapis.com'] },
  { type: /^gcp:kms\//, apis: ['cloudkms.googleapis.com'] },
  { type: /^gcp:billing\/budget:/, apis: ['billingbudgets.googleapis.com'] },
];

/** APIs a resource needs, or undefined when its type is not in the table. */
export function apisFor(type: string, inputs: Record<string, unknown>): string[] | undefined {
  const row = RESOURCE_APIS.find((r) => r.type.test(type));
  if (!row) return undefined;
  const extra =
    type.startsWith('gcp:cloudfunctionsv2/') && inputs.eventTrigger ? ['eventarc.googleapis.com'] : [];
  return [...row.apis, ...extra];
}
