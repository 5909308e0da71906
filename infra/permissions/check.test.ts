import { describe, expect, it } from 'vitest';
import type { PolicyResource } from '../policies/policies.ts';
import { checkPermissions, conditionHolds, type Operation, type Target } from './check.ts';
import { grantsOf } from './grants.ts';

const project = { kind: 'project', project: 'p' } as const;
const object = (path: string): Target => ({
  label: `models object ${path}`,
  service: 'storage.googleapis.com',
  type: 'storage.googleapis.com/Object',
  name: `projects/_/buckets/m/objects/${path}`,
  within: [project, { kind: 'bucket', bucket: 'm' }],
});
const service = (name: string): Target => ({
  label: name,
  service: 'run.googleapis.com',
  type: 'run.googleapis.com/Service',
  name: `projects/p/locations/r/services/${name}`,
  within: [project, { kind: 'runService', name: `projects/p/locations/r/services/${name}` }],
});
const bucketGrant = (member: string, role: string, expression?: string): PolicyResource => ({
  type: 'gcp:storage/bucketIAMMember:BucketIAMMember',
  name: `${member}-${role}`,
  inputs: { bucket: 'm', member, role, condition: expression ? { expression } : undefined },
});
const projectGrant = (member: string, role: string, expression?: string): PolicyResource => ({
  type: 'gcp:projects/iAMMember:IAMMember',
  name: `${member}-${role}`,
  inputs: { project: 'p', member, role, condition: expression ? { expression } : undefined },
});
const op = (actor: string, target: Target, permissions: string[]): Operation => ({
  actor,
  does: 'create',
  target,
  permissions,
  why: 'because',
});
const actorOf = (m: string) => m;

describe('conditionHolds', () => {
  it('evaluates the forms the stack writes', () => {
    const predict = `resource.type == "run.googleapis.com/Service" && resource.name.extract("/services/{name}").startsWith("predict-")`;
    expect(conditionHolds(predict, service('predict-a'))).toBe(true);
    expect(conditionHolds(predict, service('droptune-control-api'))).toBe(false);
    expect(
      conditionHolds('resource.name.startsWith("projects/_/buckets/m/objects/runs/")', object('runs/x')),
    ).toBe(true);
    expect(
      conditionHolds('resource.name.startsWith("projects/_/buckets/m/objects/runs/")', object('models/x')),
    ).toBe(false);
    expect(conditionHolds(undefined, object('x'))).toBe(true);
  });

  it('refuses a clause it cannot read instead of guessing', () => {
    expect(() => conditionHolds('request.time < timestamp("2030-01-01T00:00:00Z")', object('x'))).toThrow(
      /clause not understood by the permission check: request.time/,
    );
  });
});

describe('checkPermissions', () => {
  it('names the actor, the operation and the permission a grant lacks', () => {
    const grants = grantsOf([bucketGrant('trainer', 'roles/storage.objectViewer')]);
    const findings = checkPermissions(
      grants,
      [op('trainer', object('runs/r1/a'), ['storage.objects.create'])],
      [],
      actorOf,
    );
    expect(findings.map((f) => f.message)).toContain(
      'trainer cannot create models object runs/r1/a (because): lacks storage.objects.create',
    );
  });

  it('names what an identity can do but must not, and the role that allows it', () => {
    const grants = grantsOf([projectGrant('workflow', 'roles/run.admin')]);
    const findings = checkPermissions(
      grants,
      [op('workflow', service('predict-a'), ['run.services.create'])],
      [op('workflow', service('droptune-control-api'), ['run.services.setIamPolicy'])],
      actorOf,
    );
    expect(findings).toEqual([
      {
        kind: 'forbidden',
        message:
          'workflow can create droptune-control-api, which it must not (because): run.services.setIamPolicy via roles/run.admin',
      },
    ]);
  });

  it('honours a condition: the same role limited to a prefix is not forbidden outside it', () => {
    const cond = 'resource.name.startsWith("projects/_/buckets/m/objects/runs/")';
    const grants = grantsOf([bucketGrant('trainer', 'roles/storage.objectCreator', cond)]);
    const findings = checkPermissions(
      grants,
      [op('trainer', object('runs/r1/a'), ['storage.objects.create'])],
      [op('trainer', object('models/t/v1/a'), ['storage.objects.create'])],
      actorOf,
    );
    expect(findings).toEqual([]);
  });

  it('names a grant no operation uses', () => {
    const grants = grantsOf([bucketGrant('serving', 'roles/storage.objectAdmin')]);
    expect(checkPermissions(grants, [], [], actorOf)[0]?.message).toMatch(
      /^serving holds roles\/storage.objectAdmin on \{"kind":"bucket","bucket":"m"\} that no operation of it needs/,
    );
  });

  it('refuses a role whose permissions it does not know', () => {
    expect(() => grantsOf([projectGrant('x', 'roles/editor')])).toThrow(
      /permissions of roles\/editor unknown/,
    );
  });
});
