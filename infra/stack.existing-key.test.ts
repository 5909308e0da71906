/** CMEK with an existing key: no key ring is created, the buckets use that key, the GCS agent may use it. */
import { beforeAll, expect, it } from 'vitest';
import { requirePipeline, runStack, type StackRun } from './testing/stack-harness.ts';

const key = 'projects/sec-keys/locations/us-central1/keyRings/data/cryptoKeys/droptune';
let run: StackRun;

beforeAll(async () => {
  requirePipeline();
  run = await runStack(
    {
      'gcp:project': 'acme-ml-prod',
      'droptune:cmekKeyName': key,
      'droptune:functionsBundleDir': '/nonexistent',
    },
    true,
  );
});

it('encrypts every bucket with the given key and creates no key of its own', () => {
  expect(run.violations()).toEqual([]);
  expect(run.ofType('gcp:kms/keyRing:KeyRing')).toEqual([]);
  expect(run.ofType('gcp:kms/cryptoKey:CryptoKey')).toEqual([]);
  const buckets = run.ofType('gcp:storage/bucket:Bucket');
  expect(buckets.map((b) => b.inputs.encryption?.defaultKmsKeyName)).toEqual([key, key, key]);
  const [grant] = run.ofType('gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember');
  expect(grant!.inputs).toMatchObject({
    cryptoKeyId: key,
    role: 'roles/cloudkms.cryptoKeyEncrypterDecrypter',
  });
});
