/** `pulumi up` without the function bundle refuses before deploying a placeholder. */
import { expect, it } from 'vitest';
import { requirePipeline, runStack } from './testing/stack-harness.ts';

it('refuses to deploy when the function bundle is missing', async () => {
  requirePipeline();
  await expect(
    runStack(
      { 'gcp:project': 'acme-ml-prod', 'droptune:functionsBundleDir': '/nonexistent/droptune-bundles' },
      false,
    ),
  ).rejects.toThrow(/on-dataset-uploaded is missing .*run `npm run bundle:functions` before `pulumi up`/);
});
