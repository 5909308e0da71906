/**
 * The trainer VM's security posture, fixed in one instance template that the workflow creates VMs
 * from (`instances.insert?sourceInstanceTemplate=…`, overriding only name, zone, machine type, GPU
 * and provisioning model per attempt): no external IP, Shielded VM, OS Login, the trainer service
 * account, the trainer network tag, and a hard maximum run duration.
 */
import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import { childOptions } from './child-options.ts';
import { TRAINER_TAG } from './network.ts';

export interface TrainerTemplateArgs {
  /** Project of the template. */
  project: pulumi.Input<string>;
  /** Short prefix shared by the stack's resource names. */
  namePrefix: string;
  /** Subnet the VM's only interface is on (private; egress via Cloud NAT). */
  subnetwork: pulumi.Input<string>;
  /** Trainer service account email attached to the VM. */
  serviceAccountEmail: pulumi.Input<string>;
  /** Default machine type; the workflow may override it per attempt. */
  machineType: pulumi.Input<string>;
  /** Default accelerator; `gpuCount` 0 makes a CPU-only template. */
  gpuType: pulumi.Input<string>;
  gpuCount: number;
  /** Boot image; Container-Optimized OS runs the trainer container and installs signed GPU drivers. */
  bootImage: pulumi.Input<string>;
  /** Seconds after which Compute Engine deletes the VM whatever the workflow does. */
  maxRunSeconds: pulumi.Input<number>;
}

export class TrainerTemplate extends pulumi.ComponentResource {
  readonly template: gcp.compute.InstanceTemplate;
  /** `projects/<p>/global/instanceTemplates/<name>`: what the workflow passes as sourceInstanceTemplate. */
  readonly selfLink: pulumi.Output<string>;

  constructor(name: string, args: TrainerTemplateArgs, opts?: pulumi.ComponentResourceOptions) {
    super('droptune:compute:TrainerTemplate', name, {}, opts);
    this.template = new gcp.compute.InstanceTemplate(
      `${name}-template`,
      {
        project: args.project,
        // Templates are immutable: a prefix lets Pulumi create the new one before deleting the old.
        namePrefix: `${args.namePrefix}-trainer-`,
        description: 'droptune trainer VM (private, shielded, spot, self-deleting)',
        machineType: args.machineType,
        guestAccelerators: args.gpuCount > 0 ? [{ type: args.gpuType, count: args.gpuCount }] : [],
        disks: [
          {
            boot: true,
            autoDelete: true,
            sourceImage: args.bootImage,
            diskSizeGb: 100,
            diskType: 'pd-balanced',
          },
        ],
        // No accessConfigs: no external IP. Egress goes through Cloud NAT, Google APIs through Private Google Access.
        networkInterfaces: [{ subnetwork: args.subnetwork }],
        serviceAccount: {
          email: args.serviceAccountEmail,
          scopes: ['https://www.googleapis.com/auth/cloud-platform'],
        },
        shieldedInstanceConfig: { enableSecureBoot: true, enableVtpm: true, enableIntegrityMonitoring: true },
        scheduling: {
          // GPUs cannot live-migrate.
          onHostMaintenance: 'TERMINATE',
          automaticRestart: false,
          provisioningModel: 'SPOT',
          preemptible: true,
          instanceTerminationAction: 'DELETE',
          maxRunDuration: { seconds: args.maxRunSeconds },
        },
        metadata: {
          'enable-oslogin': 'TRUE',
          'block-project-ssh-keys': 'TRUE',
          'google-logging-enabled': 'true',
        },
        tags: [TRAINER_TAG],
        labels: { app: 'droptune', role: 'trainer' },
      },
      childOptions(this, opts),
    );
    this.selfLink = this.template.selfLink;
    this.registerOutputs({ selfLink: this.selfLink });
  }
}
