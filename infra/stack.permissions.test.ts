/**
 * The permission twin on the real program: every grant the stack makes (read from the resources
 * registered under Pulumi's mocks) against every operation its components perform. No operation may
 * lack a permission, no identity may be able to do what it must not, and no grant may go unused.
 * Runs with every optional feature that adds grants (CMEK, operators, serving invokers).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { checkPermissions, type Finding } from './permissions/check.ts';
import { actorResolver, stackFacts } from './permissions/facts.ts';
import { grantsOf } from './permissions/grants.ts';
import { forbiddenOperations, stackOperations } from './permissions/operations.ts';
import { PROJECT_NUMBER } from './testing/mock-cloud.ts';
import { requirePipeline, runStack, type StackRun } from './testing/stack-harness.ts';

const invokers = { apiInvokers: ['user:ops@example.com'], servingInvokers: ['group:analysts@example.com'] };
let run: StackRun;
let findings: Finding[];

beforeAll(async () => {
  requirePipeline();
  run = await runStack(
    {
      'gcp:project': 'acme-ml-prod',
      'droptune:functionsBundleDir': '/nonexistent',
      'droptune:createCmekKey': 'true',
      'droptune:apiInvokers': JSON.stringify(invokers.apiInvokers),
      'droptune:servingInvokers': JSON.stringify(invokers.servingInvokers),
    },
    true,
  );
  const facts = stackFacts(run.resources, PROJECT_NUMBER, invokers);
  findings = checkPermissions(
    grantsOf(run.resources),
    stackOperations(facts),
    forbiddenOperations(facts),
    actorResolver(run.resources),
  );
});

describe('stack permissions', () => {
  it('grants every operation what it needs', () => {
    expect(findings.filter((f) => f.kind === 'missing').map((f) => f.message)).toEqual([]);
  });

  it('lets no identity do what it must not', () => {
    expect(findings.filter((f) => f.kind === 'forbidden').map((f) => f.message)).toEqual([]);
  });

  it('makes no grant that no operation uses', () => {
    expect(findings.filter((f) => f.kind === 'excessive').map((f) => f.message)).toEqual([]);
  });
});
