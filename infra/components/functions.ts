/**
 * The two Cloud Functions (gen2, Node 22: `nodejs20` was decommissioned on 2026-10-30): `onDatasetUploaded`, fired by Eventarc when an object is
 * finalized in the datasets bucket, and `controlApi`, the HTTP API everything else talks to.
 * Both run as their own service account, egress to Cloud SQL's private IP through direct VPC
 * egress, build with a dedicated builder identity, and accept authenticated calls only: no
 * `allUsers` binding is ever made here; invoker grants are in `access.ts`.
 */
import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import { FUNCTIONS_RUNTIME } from '../data/function-runtimes.ts';
import { childOptions } from './child-options.ts';
import { functionSource } from './function-source.ts';

/** Folder names under the bundle root and the entry points the functions register. */
export const FUNCTIONS = {
  trigger: { folder: 'on-dataset-uploaded', entryPoint: 'onDatasetUploaded' },
  api: { folder: 'control-api', entryPoint: 'controlApi' },
} as const;

/** The stable URL Cloud Functions gives a function (gen2 included), computable before it exists. */
export function functionUrl(
  region: pulumi.Input<string>,
  project: pulumi.Input<string>,
  name: string,
): pulumi.Output<string> {
  return pulumi.interpolate`https://${region}-${project}.cloudfunctions.net/${name}`;
}

export interface FunctionsArgs {
  /** Project of the functions. */
  project: pulumi.Input<string>;
  /** Region of the functions and of the Eventarc trigger (the datasets bucket's region). */
  region: pulumi.Input<string>;
  /** Short prefix shared by the stack's resource names. */
  namePrefix: string;
  /** Absolute path of the bundle root (`<repo>/dist/functions`). */
  bundleRoot: string;
  /** Bucket the zipped bundles are uploaded to. */
  sourcesBucket: pulumi.Input<string>;
  /** Artifact Registry repository (resource name) Cloud Build pushes function images to. */
  dockerRepository: pulumi.Input<string>;
  /** Builder service account (resource name `projects/<p>/serviceAccounts/<email>`). */
  builderServiceAccount: pulumi.Input<string>;
  /** VPC and subnet for direct VPC egress (private ranges only): reaches Cloud SQL's private IP. */
  network: pulumi.Input<string>;
  subnetwork: pulumi.Input<string>;
  /** Datasets bucket whose finalize events fire `onDatasetUploaded`. */
  datasetsBucket: pulumi.Input<string>;
  /** Runtime identity of `onDatasetUploaded`. */
  triggerServiceAccount: pulumi.Input<string>;
  /** Identity Eventarc uses to deliver events (needs run.invoker on the trigger function). */
  eventarcServiceAccount: pulumi.Input<string>;
  /** Runtime identity of the control API. */
  apiServiceAccount: pulumi.Input<string>;
  /** Environment of `onDatasetUploaded`. */
  triggerEnvironment: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** Environment of the control API. */
  apiEnvironment: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** Who may invoke `onDatasetUploaded` (the Eventarc identity), keyed by a stable label that names the binding. */
  triggerInvokers: Record<string, pulumi.Input<string>>;
  /** Who may invoke the control API (stack actors, operators), keyed likewise. */
  apiInvokers: Record<string, pulumi.Input<string>>;
  /** Instance caps; each instance holds a small database pool, so these bound Cloud SQL connections. */
  triggerMaxInstances: pulumi.Input<number>;
  apiMaxInstances: pulumi.Input<number>;
}

export class Functions extends pulumi.ComponentResource {
  readonly trigger: gcp.cloudfunctionsv2.Function;
  readonly api: gcp.cloudfunctionsv2.Function;
  /** HTTPS URL the API reports for the control API (`https://<region>-<project>.cloudfunctions.net/<name>`). */
  readonly apiUrl: pulumi.Output<string>;
  /** Cloud Run service names behind each function, the scope of their invoker bindings. */
  readonly triggerService: pulumi.Output<string>;
  readonly apiService: pulumi.Output<string>;

  constructor(name: string, args: FunctionsArgs, opts?: pulumi.ComponentResourceOptions) {
    super('droptune:functions:Functions', name, {}, opts);
    const child = (extra?: pulumi.CustomResourceOptions) => childOptions(this, opts, extra);
    const dryRun = pulumi.runtime.isDryRun();

    const upload = (key: keyof typeof FUNCTIONS) => {
      const src = functionSource(args.bundleRoot, FUNCTIONS[key].folder, dryRun);
      return new gcp.storage.BucketObject(
        `${name}-${FUNCTIONS[key].folder}-source`,
        { bucket: args.sourcesBucket, name: src.objectName, source: src.archive },
        child(),
      );
    };
    const build = (key: keyof typeof FUNCTIONS, object: gcp.storage.BucketObject) => ({
      runtime: FUNCTIONS_RUNTIME,
      entryPoint: FUNCTIONS[key].entryPoint,
      source: { storageSource: { bucket: args.sourcesBucket, object: object.name } },
      serviceAccount: args.builderServiceAccount,
      dockerRepository: args.dockerRepository,
    });
    const vpc = {
      directVpcNetworkInterfaces: [{ network: args.network, subnetwork: args.subnetwork }],
      directVpcEgress: 'VPC_EGRESS_PRIVATE_RANGES_ONLY',
    };

    this.trigger = new gcp.cloudfunctionsv2.Function(
      `${name}-on-dataset-uploaded`,
      {
        project: args.project,
        location: args.region,
        name: `${args.namePrefix}-on-dataset-uploaded`,
        description: 'Validates a CSV dropped in the datasets bucket and starts the pipeline',
        buildConfig: build('trigger', upload('trigger')),
        serviceConfig: {
          serviceAccountEmail: args.triggerServiceAccount,
          // Only Eventarc calls it; internal ingress keeps it off the internet even with a bad IAM change.
          ingressSettings: 'ALLOW_INTERNAL_ONLY',
          availableMemory: '512Mi',
          // Streaming validation of a large CSV takes minutes, not seconds.
          timeoutSeconds: 540,
          maxInstanceCount: args.triggerMaxInstances,
          environmentVariables: args.triggerEnvironment,
          ...vpc,
        },
        eventTrigger: {
          triggerRegion: args.region,
          eventType: 'google.cloud.storage.object.v1.finalized',
          // A thrown (retryable) error is redelivered; permanent errors are recorded on the run instead.
          retryPolicy: 'RETRY_POLICY_RETRY',
          serviceAccountEmail: args.eventarcServiceAccount,
          eventFilters: [{ attribute: 'bucket', value: args.datasetsBucket }],
        },
      },
      child(),
    );

    this.api = new gcp.cloudfunctionsv2.Function(
      `${name}-control-api`,
      {
        project: args.project,
        location: args.region,
        name: `${args.namePrefix}-control-api`,
        description: 'droptune control API: runs, metrics, registry, deployments, uploads',
        buildConfig: build('api', upload('api')),
        serviceConfig: {
          serviceAccountEmail: args.apiServiceAccount,
          // Reached from operators' laptops and trainer VMs (via NAT), so all ingress, but IAM-authenticated.
          ingressSettings: 'ALLOW_ALL',
          availableMemory: '512Mi',
          availableCpu: '1',
          // Registration copies model files server-side; allow it to finish within one request.
          timeoutSeconds: 300,
          maxInstanceCount: args.apiMaxInstances,
          maxInstanceRequestConcurrency: 20,
          environmentVariables: args.apiEnvironment,
          ...vpc,
        },
      },
      child(),
    );

    this.apiUrl = this.api.url;
    this.triggerService = this.trigger.serviceConfig.apply((s) => s?.service ?? '');
    this.apiService = this.api.serviceConfig.apply((s) => s?.service ?? '');
    // Authenticated invocation only: run.invoker on each function's Cloud Run service, to exactly these members.
    const invokers = (
      fn: string,
      service: pulumi.Output<string>,
      members: Record<string, pulumi.Input<string>>,
    ) => {
      for (const [label, member] of Object.entries(members)) {
        new gcp.cloudrunv2.ServiceIamMember(
          `${name}-${fn}-invoker-${label.replace(/[^a-zA-Z0-9]+/g, '-')}`,
          { project: args.project, location: args.region, name: service, role: 'roles/run.invoker', member },
          child(),
        );
      }
    };
    invokers('trigger', this.triggerService, args.triggerInvokers);
    invokers('api', this.apiService, args.apiInvokers);

    this.registerOutputs({ apiUrl: this.apiUrl, trigger: this.trigger.name, api: this.api.name });
  }
}
