/**
 * The private network the trainer VMs and Cloud SQL live on. Nothing here has a public address:
 * VMs reach Google APIs through Private Google Access and the internet (model hub, pip) through
 * Cloud NAT; Cloud SQL is reachable only on its private IP through private services access.
 */
import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import { childOptions } from './child-options.ts';

/** Google's published source range for IAP TCP forwarding; the only ingress this stack may open. */
export const IAP_SOURCE_RANGE = '35.235.240.0/20';
/** Network tag carried by trainer VMs; firewall rules target it rather than the whole VPC. */
export const TRAINER_TAG = 'droptune-trainer';

export interface NetworkArgs {
  /** Project that owns the VPC. */
  project: pulumi.Input<string>;
  /** Region of the subnet, router and NAT (the region the VMs run in). */
  region: pulumi.Input<string>;
  /** Short prefix shared by the stack's resource names. */
  namePrefix: string;
  /** Primary range of the trainer subnet. */
  subnetCidr: pulumi.Input<string>;
  /** Size of the range reserved for Google-managed services (Cloud SQL). */
  privateServicesPrefixLength: pulumi.Input<number>;
  /** Open tcp:22 from IAP's range to trainer VMs (for debugging a run); off means no ingress at all. */
  allowIapSsh?: boolean;
}

export class Network extends pulumi.ComponentResource {
  readonly network: gcp.compute.Network;
  readonly subnet: gcp.compute.Subnetwork;
  /** The peering Cloud SQL needs before an instance with a private IP can be created. */
  readonly privateServicesConnection: gcp.servicenetworking.Connection;

  constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super('droptune:network:Network', name, {}, opts);
    const child = (extra?: pulumi.CustomResourceOptions) => childOptions(this, opts, extra);

    this.network = new gcp.compute.Network(
      `${name}-vpc`,
      // Custom mode: auto mode would create a subnet (and default firewall rules) in every region.
      {
        project: args.project,
        name: `${args.namePrefix}-vpc`,
        autoCreateSubnetworks: false,
        routingMode: 'REGIONAL',
      },
      child(),
    );
    this.subnet = new gcp.compute.Subnetwork(
      `${name}-subnet`,
      {
        project: args.project,
        name: `${args.namePrefix}-trainers`,
        region: args.region,
        network: this.network.id,
        ipCidrRange: args.subnetCidr,
        // VMs without external IPs still reach storage.googleapis.com and the other APIs.
        privateIpGoogleAccess: true,
      },
      child(),
    );
    const router = new gcp.compute.Router(
      `${name}-router`,
      {
        project: args.project,
        name: `${args.namePrefix}-router`,
        region: args.region,
        network: this.network.id,
      },
      child(),
    );
    new gcp.compute.RouterNat(
      `${name}-nat`,
      {
        project: args.project,
        name: `${args.namePrefix}-nat`,
        region: args.region,
        router: router.name,
        natIpAllocateOption: 'AUTO_ONLY',
        sourceSubnetworkIpRangesToNat: 'LIST_OF_SUBNETWORKS',
        subnetworks: [{ name: this.subnet.id, sourceIpRangesToNats: ['ALL_IP_RANGES'] }],
        logConfig: { enable: true, filter: 'ERRORS_ONLY' },
      },
      child(),
    );

    // A custom VPC already denies ingress implicitly; this rule makes the intent visible and logged.
    new gcp.compute.Firewall(
      `${name}-deny-ingress`,
      {
        project: args.project,
        name: `${args.namePrefix}-deny-all-ingress`,
        network: this.network.id,
        direction: 'INGRESS',
        priority: 65534,
        sourceRanges: ['0.0.0.0/0'],
        denies: [{ protocol: 'all' }],
        logConfig: { metadata: 'EXCLUDE_ALL_METADATA' },
      },
      child(),
    );
    if (args.allowIapSsh) {
      new gcp.compute.Firewall(
        `${name}-iap-ssh`,
        {
          project: args.project,
          name: `${args.namePrefix}-allow-iap-ssh`,
          network: this.network.id,
          direction: 'INGRESS',
          priority: 1000,
          sourceRanges: [IAP_SOURCE_RANGE],
          targetTags: [TRAINER_TAG],
          allows: [{ protocol: 'tcp', ports: ['22'] }],
        },
        child(),
      );
    }

    const range = new gcp.compute.GlobalAddress(
      `${name}-psa-range`,
      {
        project: args.project,
        name: `${args.namePrefix}-private-services`,
        purpose: 'VPC_PEERING',
        addressType: 'INTERNAL',
        prefixLength: args.privateServicesPrefixLength,
        network: this.network.id,
      },
      child(),
    );
    this.privateServicesConnection = new gcp.servicenetworking.Connection(
      `${name}-psa`,
      {
        network: this.network.id,
        service: 'servicenetworking.googleapis.com',
        reservedPeeringRanges: [range.name],
        // Deleting the peering fails while Google still holds the producer side after the SQL instance
        // is gone; abandoning it lets `pulumi destroy` finish, and the VPC deletion removes it.
        deletionPolicy: 'ABANDON',
      },
      child(),
    );

    this.registerOutputs({ network: this.network.id, subnet: this.subnet.id });
  }
}
