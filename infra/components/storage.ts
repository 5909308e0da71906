/**
 * The three buckets: datasets (users drop CSVs), models (runs' staging area and registered
 * versions), and function sources (bundles Cloud Build reads). All private by construction:
 * uniform bucket-level access (no object ACLs to audit) and public access prevention enforced
 * (an `allUsers` grant is rejected by GCS itself, whatever IAM a later change adds).
 */
import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import { childOptions } from './child-options.ts';

export interface StorageArgs {
  /** Project the buckets belong to; bucket names are prefixed with it because they are global. */
  project: pulumi.Input<string>;
  /** Region for all buckets: the same region as the functions, VMs and Eventarc trigger (no egress, a regional trigger). */
  region: pulumi.Input<string>;
  /** Short prefix shared by the stack's resource names. */
  namePrefix: string;
  /** Datasets older than this move to Nearline. */
  datasetsNearlineAfterDays: pulumi.Input<number>;
  /** Datasets older than this move to Coldline (must exceed the Nearline age). */
  datasetsColdlineAfterDays: pulumi.Input<number>;
  /**
   * Age at which objects under `runs/` (the trainer's staging prefix, with `runs/<runId>/checkpoints/`)
   * are deleted. GCS lifecycle prefixes cannot contain wildcards, so the rule covers the whole staging
   * prefix; registered versions are copies under `models/` and never expire.
   */
  runsExpireAfterDays: pulumi.Input<number>;
  /** Age at which objects under `reports/` are deleted. */
  reportsExpireAfterDays: pulumi.Input<number>;
  /** Days a noncurrent (overwritten or deleted) object version is kept in the versioned models bucket. */
  modelsNoncurrentExpireAfterDays: pulumi.Input<number>;
  /** Existing Cloud KMS key (full resource name) for default encryption of all buckets. */
  cmekKeyName?: pulumi.Input<string>;
  /** Create a key ring and a 90-day-rotated key for the buckets when no `cmekKeyName` is given. */
  createCmekKey?: boolean;
}

export class Storage extends pulumi.ComponentResource {
  readonly datasetsBucket: gcp.storage.Bucket;
  readonly modelsBucket: gcp.storage.Bucket;
  readonly sourcesBucket: gcp.storage.Bucket;
  /** The CMEK key in use, or undefined for Google-managed encryption. */
  readonly kmsKeyName: pulumi.Output<string> | undefined;

  constructor(name: string, args: StorageArgs, opts?: pulumi.ComponentResourceOptions) {
    super('droptune:storage:Storage', name, {}, opts);
    const child = (extra?: pulumi.CustomResourceOptions) => childOptions(this, opts, extra);

    let keyName: pulumi.Output<string> | undefined;
    let keyGrant: gcp.kms.CryptoKeyIAMMember | undefined;
    if (args.cmekKeyName || args.createCmekKey) {
      if (args.cmekKeyName) {
        keyName = pulumi.output(args.cmekKeyName);
      } else {
        const ring = new gcp.kms.KeyRing(
          `${name}-keyring`,
          { project: args.project, location: args.region, name: `${args.namePrefix}-keys` },
          child(),
        );
        const key = new gcp.kms.CryptoKey(
          `${name}-key`,
          // 90-day rotation: the common compliance baseline; old versions still decrypt old objects.
          {
            keyRing: ring.id,
            name: `${args.namePrefix}-buckets`,
            rotationPeriod: '7776000s',
            purpose: 'ENCRYPT_DECRYPT',
          },
          child({ protect: true }),
        );
        keyName = key.id;
      }
      // GCS encrypts with its own service agent, which must hold the key role before a bucket can use it.
      const agent = gcp.storage.getProjectServiceAccountOutput({ project: args.project }, { parent: this });
      keyGrant = new gcp.kms.CryptoKeyIAMMember(
        `${name}-gcs-agent-key`,
        {
          cryptoKeyId: keyName,
          role: 'roles/cloudkms.cryptoKeyEncrypterDecrypter',
          member: pulumi.interpolate`serviceAccount:${agent.emailAddress}`,
        },
        child(),
      );
    }
    this.kmsKeyName = keyName;

    const bucket = (suffix: string, extra: Partial<gcp.storage.BucketArgs>) =>
      new gcp.storage.Bucket(
        `${name}-${suffix}`,
        {
          project: args.project,
          name: pulumi.interpolate`${args.project}-${args.namePrefix}-${suffix}`,
          location: pulumi.output(args.region).apply((r) => r.toUpperCase()),
          storageClass: 'STANDARD',
          uniformBucketLevelAccess: true,
          publicAccessPrevention: 'enforced',
          encryption: keyName ? { defaultKmsKeyName: keyName } : undefined,
          ...extra,
        },
        child(keyGrant ? { dependsOn: [keyGrant] } : {}),
      );
    const abortUploads = { action: { type: 'AbortIncompleteMultipartUpload' }, condition: { age: 1 } };

    this.datasetsBucket = bucket('datasets', {
      lifecycleRules: [
        {
          action: { type: 'SetStorageClass', storageClass: 'NEARLINE' },
          condition: { age: args.datasetsNearlineAfterDays, matchesStorageClasses: ['STANDARD'] },
        },
        {
          action: { type: 'SetStorageClass', storageClass: 'COLDLINE' },
          condition: { age: args.datasetsColdlineAfterDays, matchesStorageClasses: ['STANDARD', 'NEARLINE'] },
        },
        abortUploads,
      ],
    });

    this.modelsBucket = bucket('models', {
      // Versioning: a registered model file overwritten or deleted by mistake stays recoverable.
      versioning: { enabled: true },
      lifecycleRules: [
        {
          action: { type: 'Delete' },
          condition: { age: args.runsExpireAfterDays, matchesPrefixes: ['runs/'] },
        },
        {
          action: { type: 'Delete' },
          condition: { age: args.reportsExpireAfterDays, matchesPrefixes: ['reports/'] },
        },
        {
          action: { type: 'Delete' },
          condition: { daysSinceNoncurrentTime: args.modelsNoncurrentExpireAfterDays, withState: 'ARCHIVED' },
        },
        abortUploads,
      ],
    });

    this.sourcesBucket = bucket('sources', {
      // No age-based delete: Cloud Functions rebuilds from the recorded source object on runtime updates.
      lifecycleRules: [abortUploads],
    });

    this.registerOutputs({
      datasetsBucket: this.datasetsBucket.name,
      modelsBucket: this.modelsBucket.name,
      sourcesBucket: this.sourcesBucket.name,
    });
  }
}
