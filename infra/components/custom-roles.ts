/**
 * Custom roles: where a predefined role would give an identity more than it needs, a role with only
 * the permissions its operations use (the permission twin in infra/permissions/ checks both ways).
 */
import type { Actor } from './identities.ts';
import { PREDICTION_SERVICES_CONDITION } from './serving.ts';

/** Custom role id (`[a-zA-Z0-9_.]{3,64}`, no hyphens) for a name prefix and a role key. */
export function customRoleId(namePrefix: string, key: string): string {
  return `${namePrefix.replace(/-/g, '_')}_${key}`;
}

/** Name prefix of the trainer VMs workflows/pipeline.yaml creates (`"droptune-" + safeRunId + …`). */
export const TRAINER_VM_PREFIX = 'droptune-';

export interface CustomRoleGrant {
  actor: Actor;
  /** Role key: the role id is `<prefix>_<key>`. */
  key: string;
  title: string;
  permissions: readonly string[];
  condition?: { title: string; description: string; expression: string };
  why: string;
}

export const CUSTOM_ROLE_GRANTS: readonly CustomRoleGrant[] = [
  {
    actor: 'workflow',
    key: 'prediction_create',
    title: 'droptune prediction service creator',
    permissions: ['run.services.create', 'run.operations.get'],
    why:
      'instead of roles/run.admin (update and setIamPolicy on every service, the functions included): a create ' +
      'names a new service and fails on an existing one, so it needs no condition; operations.get polls it',
  },
  {
    actor: 'workflow',
    key: 'prediction_manage',
    title: 'droptune prediction service deployer',
    permissions: [
      'run.services.get',
      'run.services.update',
      'run.services.getIamPolicy',
      'run.services.setIamPolicy',
    ],
    condition: PREDICTION_SERVICES_CONDITION,
    why: 'deploy a new revision and read-modify-write the IAM policy of predict-* services only',
  },
  {
    actor: 'trainer',
    key: 'trainer_vm_self_delete',
    title: 'droptune trainer VM self-delete',
    permissions: ['compute.instances.get', 'compute.instances.delete'],
    condition: {
      title: 'droptune-trainer-vms-only',
      description: `Only VM instances named ${TRAINER_VM_PREFIX}*`,
      expression: `resource.type == "compute.googleapis.com/Instance" && resource.name.extract("/instances/{name}").startsWith("${TRAINER_VM_PREFIX}")`,
    },
    why: 'the VM deletes itself when the trainer ends (its startup script), so a stopped VM never keeps its disk',
  },
];
