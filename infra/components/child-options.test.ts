import type * as pulumi from '@pulumi/pulumi';
import { describe, expect, it } from 'vitest';
import { childOptions } from './child-options.ts';

// Plain objects stand in for resources: childOptions only moves references around.
const parent = {} as pulumi.ComponentResource;
const a = { n: 'a' } as unknown as pulumi.Resource;
const b = { n: 'b' } as unknown as pulumi.Resource;

describe('childOptions', () => {
  it("parents the child and passes the component's dependsOn down", () => {
    expect(childOptions(parent, { dependsOn: [a] })).toEqual({ parent, dependsOn: [a] });
  });
  it("merges the child's own dependsOn with the component's", () => {
    expect(childOptions(parent, { dependsOn: [a] }, { dependsOn: [b], protect: true })).toEqual({
      parent,
      protect: true,
      dependsOn: [a, b],
    });
    expect(childOptions(parent, { dependsOn: a }, { dependsOn: b }).dependsOn).toEqual([a, b]);
  });
  it('leaves dependsOn unset when neither has one', () => {
    expect(childOptions(parent, undefined)).toEqual({ parent, dependsOn: undefined });
  });
});
