/**
 * Who holds which role on what, read from the resources the Pulumi program registered (under
 * Pulumi's mocks): every IAM member resource becomes one {@link Grant}, with the role's permissions
 * resolved from the vendored predefined roles or from the stack's own custom role resources.
 */
import type { PolicyResource } from '../policies/policies.ts';
import { PREDEFINED_ROLES } from './roles.ts';

/** Where a grant applies: the IAM policy it was written to. */
export type Scope =
  | { kind: 'project'; project: string }
  | { kind: 'bucket'; bucket: string }
  | { kind: 'serviceAccount'; email: string }
  | { kind: 'repository'; repository: string }
  | { kind: 'runService'; name: string }
  | { kind: 'cryptoKey'; key: string };

export interface Grant {
  member: string;
  role: string;
  permissions: readonly string[];
  scope: Scope;
  /** CEL expression of the binding's IAM condition, if any. */
  condition?: string;
  /** The Pulumi resource that makes it (for messages). */
  resource: string;
}

function scopeOf(r: PolicyResource): Scope | undefined {
  const i = r.inputs;
  switch (r.type) {
    case 'gcp:projects/iAMMember:IAMMember':
      return { kind: 'project', project: i.project };
    case 'gcp:storage/bucketIAMMember:BucketIAMMember':
      return { kind: 'bucket', bucket: i.bucket };
    case 'gcp:serviceaccount/iAMMember:IAMMember':
      return { kind: 'serviceAccount', email: String(i.serviceAccountId).split('/').pop()! };
    case 'gcp:artifactregistry/repositoryIamMember:RepositoryIamMember':
      return { kind: 'repository', repository: i.repository };
    case 'gcp:cloudrunv2/serviceIamMember:ServiceIamMember':
      return { kind: 'runService', name: i.name };
    case 'gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember':
      return { kind: 'cryptoKey', key: i.cryptoKeyId };
    default:
      return undefined;
  }
}

/**
 * Every grant the stack makes. Throws naming the resource when a role's permissions are unknown or
 * an IAM resource type is not understood, so nothing escapes the check silently.
 */
export function grantsOf(resources: PolicyResource[]): Grant[] {
  const custom = new Map<string, readonly string[]>();
  for (const r of resources.filter((x) => x.type === 'gcp:projects/iAMCustomRole:IAMCustomRole')) {
    custom.set(`projects/${r.inputs.project}/roles/${r.inputs.roleId}`, r.inputs.permissions);
  }
  return resources
    .filter((r) => /iam(member|binding|policy):/i.test(r.type))
    .map((r) => {
      const scope = scopeOf(r);
      if (!scope)
        throw new Error(`${r.type}::${r.name}: IAM resource type not understood by the permission check`);
      const permissions = PREDEFINED_ROLES[r.inputs.role] ?? custom.get(r.inputs.role);
      if (!permissions)
        throw new Error(
          `${r.type}::${r.name}: permissions of ${r.inputs.role} unknown (add it to permissions/roles.ts)`,
        );
      return {
        member: r.inputs.member,
        role: r.inputs.role,
        permissions,
        scope,
        condition: r.inputs.condition?.expression,
        resource: `${r.type}::${r.name}`,
      };
    });
}
