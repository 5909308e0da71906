/**
 * Policy checks over a stack's resources: the rules a CrossGuard pack would enforce, written as
 * plain functions over `{type, name, inputs}` so unit tests run them on the mocked program (and
 * on deliberately bad resources, to prove each one can fail).
 *
 * Each policy returns the violations it found; an empty list means compliant.
 */
import { existsSync, readFileSync } from 'node:fs';
import { runtimeRefusal } from '../data/function-runtimes.ts';
import { apisFor } from '../data/resource-apis.ts';

export interface PolicyResource {
  type: string;
  name: string;
  inputs: Record<string, any>;
}

export interface Violation {
  policy: string;
  resource: string;
  message: string;
}

export type Policy = (resources: PolicyResource[]) => Violation[];

const PUBLIC_MEMBERS = new Set(['allUsers', 'allAuthenticatedUsers']);
const PRIMITIVE_ROLES = new Set(['roles/owner', 'roles/editor', 'roles/viewer']);
const COMPUTE_DEFAULT_SA = /-compute@developer\.gserviceaccount\.com/;
/** Any IAM member/binding/policy resource of any GCP service (`…IamMember`, `…IAMBinding`, …). */
const IAM_TYPE = /iam(member|binding|policy):/i;

const ref = (r: PolicyResource) => `${r.type}::${r.name}`;
const violation = (policy: string, r: PolicyResource, message: string): Violation => ({
  policy,
  resource: ref(r),
  message,
});

/** Members and roles an IAM resource grants, including those inside an IAM policy document. */
export function iamGrants(r: PolicyResource): { role: string; member: string }[] {
  if (!IAM_TYPE.test(r.type)) return [];
  const out: { role: string; member: string }[] = [];
  const i = r.inputs;
  if (typeof i.member === 'string') out.push({ role: i.role, member: i.member });
  if (Array.isArray(i.members)) for (const m of i.members) out.push({ role: i.role, member: m });
  if (typeof i.policyData === 'string') {
    const doc = JSON.parse(i.policyData) as { bindings?: { role: string; members: string[] }[] };
    for (const b of doc.bindings ?? []) for (const m of b.members) out.push({ role: b.role, member: m });
  }
  return out;
}

/** Every string inside a value, with its path (for "no resource mentions X" checks). */
function* strings(value: unknown, path = ''): Generator<[string, string]> {
  if (typeof value === 'string') yield [path, value];
  else if (Array.isArray(value)) for (const [k, v] of value.entries()) yield* strings(v, `${path}[${k}]`);
  else if (value && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) yield* strings(v, path ? `${path}.${k}` : k);
}

export const bucketsArePrivate: Policy = (resources) =>
  resources
    .filter((r) => r.type === 'gcp:storage/bucket:Bucket')
    .flatMap((r) => [
      ...(r.inputs.uniformBucketLevelAccess === true
        ? []
        : [violation('buckets-private', r, 'uniformBucketLevelAccess must be true')]),
      ...(r.inputs.publicAccessPrevention === 'enforced'
        ? []
        : [
            violation(
              'buckets-private',
              r,
              `publicAccessPrevention must be "enforced", got ${JSON.stringify(r.inputs.publicAccessPrevention)}`,
            ),
          ]),
    ]);

export const noPublicMembers: Policy = (resources) =>
  resources.flatMap((r) =>
    iamGrants(r)
      .filter((g) => PUBLIC_MEMBERS.has(g.member))
      .map((g) => violation('no-public-members', r, `grants ${g.role} to ${g.member}`)),
  );

export const noPrimitiveRoles: Policy = (resources) =>
  resources.flatMap((r) =>
    iamGrants(r)
      .filter((g) => PRIMITIVE_ROLES.has(g.role))
      .map((g) => violation('no-primitive-roles', r, `grants primitive role ${g.role} to ${g.member}`)),
  );

/**
 * No resource names the Compute default SA, and no resource that would silently fall back to it
 * leaves its identity unset (functions' runtime and build, Eventarc delivery, workflows, VMs, Cloud Run).
 */
export const noComputeDefaultServiceAccount: Policy = (resources) =>
  resources.flatMap((r) => {
    const out: Violation[] = [];
    for (const [path, s] of strings(r.inputs)) {
      if (COMPUTE_DEFAULT_SA.test(s))
        out.push(violation('no-default-compute-sa', r, `${path} uses the Compute default SA`));
    }
    const missing = (what: string) =>
      out.push(
        violation('no-default-compute-sa', r, `${what} is unset (would default to the Compute default SA)`),
      );
    const i = r.inputs;
    switch (r.type) {
      case 'gcp:cloudfunctionsv2/function:Function':
        if (!i.serviceConfig?.serviceAccountEmail) missing('serviceConfig.serviceAccountEmail');
        if (!i.buildConfig?.serviceAccount) missing('buildConfig.serviceAccount');
        if (i.eventTrigger && !i.eventTrigger.serviceAccountEmail)
          missing('eventTrigger.serviceAccountEmail');
        break;
      case 'gcp:workflows/workflow:Workflow':
        if (!i.serviceAccount) missing('serviceAccount');
        break;
      case 'gcp:compute/instanceTemplate:InstanceTemplate':
      case 'gcp:compute/regionInstanceTemplate:RegionInstanceTemplate':
      case 'gcp:compute/instance:Instance':
        if (!i.serviceAccount?.email) missing('serviceAccount.email');
        break;
      case 'gcp:cloudrunv2/service:Service':
        if (!i.template?.serviceAccount) missing('template.serviceAccount');
        break;
    }
    return out;
  });

export const sqlPrivateWithTls: Policy = (resources) =>
  resources
    .filter((r) => r.type === 'gcp:sql/databaseInstance:DatabaseInstance')
    .flatMap((r) => {
      const ip = r.inputs.settings?.ipConfiguration ?? {};
      const out: Violation[] = [];
      if (ip.ipv4Enabled !== false)
        out.push(violation('sql-private-tls', r, 'ipConfiguration.ipv4Enabled must be false (no public IP)'));
      if (!ip.privateNetwork)
        out.push(violation('sql-private-tls', r, 'ipConfiguration.privateNetwork must be set'));
      if ((ip.authorizedNetworks ?? []).length > 0)
        out.push(violation('sql-private-tls', r, 'authorizedNetworks must be empty'));
      if (!['ENCRYPTED_ONLY', 'TRUSTED_CLIENT_CERTIFICATE_REQUIRED'].includes(ip.sslMode)) {
        out.push(
          violation('sql-private-tls', r, `sslMode must require TLS, got ${JSON.stringify(ip.sslMode)}`),
        );
      }
      return out;
    });

const VM_TYPES = new Set([
  'gcp:compute/instanceTemplate:InstanceTemplate',
  'gcp:compute/regionInstanceTemplate:RegionInstanceTemplate',
  'gcp:compute/instance:Instance',
]);

export const vmsPrivateAndShielded: Policy = (resources) =>
  resources
    .filter((r) => VM_TYPES.has(r.type))
    .flatMap((r) => {
      const out: Violation[] = [];
      for (const [n, nic] of (r.inputs.networkInterfaces ?? []).entries()) {
        if ((nic.accessConfigs ?? []).length > 0 || (nic.ipv6AccessConfigs ?? []).length > 0) {
          out.push(
            violation(
              'vms-private-shielded',
              r,
              `networkInterfaces[${n}] has an external IP (accessConfigs)`,
            ),
          );
        }
      }
      const sh = r.inputs.shieldedInstanceConfig ?? {};
      for (const k of ['enableSecureBoot', 'enableVtpm', 'enableIntegrityMonitoring']) {
        if (sh[k] !== true)
          out.push(violation('vms-private-shielded', r, `shieldedInstanceConfig.${k} must be true`));
      }
      return out;
    });

const INVOKER_ROLES = new Set(['roles/run.invoker', 'roles/cloudfunctions.invoker']);

/**
 * Functions and Cloud Run services require authentication: no IAM-check bypass, no public invoker
 * grant, and gen1 HTTP functions (not used here) are not allowed to be open either.
 */
export const servicesAuthenticated: Policy = (resources) =>
  resources.flatMap((r) => {
    const out: Violation[] = [];
    if (
      (r.type === 'gcp:cloudrunv2/service:Service' || r.type === 'gcp:cloudrun/service:Service') &&
      r.inputs.invokerIamDisabled === true
    ) {
      out.push(violation('services-authenticated', r, 'invokerIamDisabled turns off authentication'));
    }
    for (const g of iamGrants(r)) {
      if (INVOKER_ROLES.has(g.role) && PUBLIC_MEMBERS.has(g.member)) {
        out.push(violation('services-authenticated', r, `${g.role} granted to ${g.member}`));
      }
    }
    return out;
  });

/** The workflow's source is the file at `path`, byte for byte (UTF-8 round trip included). */
export function workflowSourceMatches(path: string): Policy {
  return (resources) => {
    const workflows = resources.filter((r) => r.type === 'gcp:workflows/workflow:Workflow');
    if (!existsSync(path))
      return [{ policy: 'workflow-source', resource: path, message: `${path} does not exist` }];
    if (workflows.length === 0)
      return [
        { policy: 'workflow-source', resource: path, message: 'no gcp.workflows.Workflow in the stack' },
      ];
    const want = readFileSync(path);
    return workflows
      .filter(
        (r) =>
          typeof r.inputs.sourceContents !== 'string' ||
          !Buffer.from(r.inputs.sourceContents, 'utf8').equals(want),
      )
      .map((r) => violation('workflow-source', r, `sourceContents differs from ${path}`));
  };
}

/** Cloud Workflows accepts at most 20 user env vars, none named GOOGLE_* or WORKFLOWS_*. */
export const workflowEnvValid: Policy = (resources) =>
  resources
    .filter((r) => r.type === 'gcp:workflows/workflow:Workflow')
    .flatMap((r) => {
      const keys = Object.keys(r.inputs.userEnvVars ?? {});
      const out: Violation[] = [];
      if (keys.length > 20) out.push(violation('workflow-env', r, `${keys.length} userEnvVars (max 20)`));
      for (const k of keys.filter((k) => k.startsWith('GOOGLE_') || k.startsWith('WORKFLOWS_'))) {
        out.push(violation('workflow-env', r, `userEnvVars key ${k} uses a reserved prefix`));
      }
      return out;
    });

/**
 * Functions use a runtime Cloud Run functions still accepts on `day` (default: today, the day a
 * `pulumi up` would run): a decommissioned runtime refuses every create and update.
 */
export function functionsRuntimeSupported(day = new Date().toISOString().slice(0, 10)): Policy {
  return (resources) =>
    resources
      .filter((r) => r.type === 'gcp:cloudfunctionsv2/function:Function')
      .flatMap((r) => {
        const why = runtimeRefusal(String(r.inputs.buildConfig?.runtime), day);
        return why ? [violation('functions-runtime', r, why)] : [];
      });
}

/** Every resource's API is among the `gcp.projects.Service` resources the stack enables. */
export const apisEnabled: Policy = (resources) => {
  const enabled = new Set(
    resources.filter((r) => r.type === 'gcp:projects/service:Service').map((r) => r.inputs.service),
  );
  return resources.flatMap((r) => {
    const apis = apisFor(r.type, r.inputs);
    if (!apis)
      return [violation('apis-enabled', r, `no API known for ${r.type}: add it to data/resource-apis.ts`)];
    return apis
      .filter((a) => !enabled.has(a))
      .map((a) => violation('apis-enabled', r, `needs ${a}, which the stack does not enable`));
  });
};

/** Every stack-wide policy (the workflow-source check needs a path, so it is added by the caller). */
export const STACK_POLICIES: Record<string, Policy> = {
  bucketsArePrivate,
  noPublicMembers,
  noPrimitiveRoles,
  noComputeDefaultServiceAccount,
  sqlPrivateWithTls,
  vmsPrivateAndShielded,
  servicesAuthenticated,
  workflowEnvValid,
  functionsRuntimeSupported: functionsRuntimeSupported(),
  apisEnabled,
};

/** Runs policies and returns all violations, in policy order. */
export function checkAll(resources: PolicyResource[], policies: Policy[]): Violation[] {
  return policies.flatMap((p) => p(resources));
}
