/**
 * The Google APIs droptune calls, enabled once per project before anything else is created.
 */
import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';

/** Every API a resource or a runtime call of droptune needs; the reason is beside each. */
export const REQUIRED_SERVICES = [
  'compute.googleapis.com', // network, NAT, trainer VMs
  'run.googleapis.com', // gen2 functions and prediction services
  'cloudfunctions.googleapis.com', // onDatasetUploaded and the control API
  'eventarc.googleapis.com', // the datasets bucket's finalize trigger
  'workflows.googleapis.com', // the pipeline
  'cloudscheduler.googleapis.com', // the reaper: starts pipeline.yaml {action: "reap"} every few minutes
  'sqladmin.googleapis.com', // Cloud SQL instance and the connector's ephemeral certs
  'servicenetworking.googleapis.com', // private services access for Cloud SQL
  'artifactregistry.googleapis.com', // trainer, serving and function images
  'secretmanager.googleapis.com', // secrets a deployment may add (hub token) without new APIs
  'cloudbuild.googleapis.com', // builds function sources and, optionally, the two images
  'iamcredentials.googleapis.com', // ID tokens and signed upload URLs
  'iam.googleapis.com', // the stack's service accounts and custom roles; custom build SAs require it
  'cloudresourcemanager.googleapis.com', // project IAM bindings (every projects.IAMMember) and project lookups
  'pubsub.googleapis.com', // Eventarc's transport for storage events
  'storage.googleapis.com', // datasets, models and function-source buckets
  'logging.googleapis.com', // workflow call logs and VM logs
  'cloudkms.googleapis.com', // only used with CMEK, harmless otherwise
  'billingbudgets.googleapis.com', // only used with a budget, harmless otherwise
] as const;

export interface ProjectServicesArgs {
  /** Project to enable the APIs on. */
  project: pulumi.Input<string>;
  /** APIs to enable; defaults to {@link REQUIRED_SERVICES}. */
  services?: readonly string[];
}

export class ProjectServices extends pulumi.ComponentResource {
  /** One resource per API; pass as `dependsOn` to every other component. */
  readonly enabled: gcp.projects.Service[];

  constructor(name: string, args: ProjectServicesArgs, opts?: pulumi.ComponentResourceOptions) {
    super('droptune:project:ProjectServices', name, {}, opts);
    this.enabled = (args.services ?? REQUIRED_SERVICES).map(
      (service) =>
        new gcp.projects.Service(
          `${name}-${service.split('.')[0]}`,
          // Never disable on destroy: other workloads in the project may use the same API.
          { project: args.project, service, disableOnDestroy: false, disableDependentServices: false },
          { parent: this },
        ),
    );
    this.registerOutputs({ enabled: this.enabled.map((s) => s.service) });
  }
}
