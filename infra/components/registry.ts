/**
 * Artifact Registry: one Docker repository for the trainer and serving images, one for the images
 * Cloud Build makes from function sources. Two repositories so the function builder's write access
 * cannot touch the images the trainer VMs and prediction services run.
 */
import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import { childOptions } from './child-options.ts';

export interface RegistryArgs {
  /** Project of the repositories. */
  project: pulumi.Input<string>;
  /** Region of the repositories (same as the VMs and Cloud Run: pulls stay in-region). */
  region: pulumi.Input<string>;
  /** Short prefix shared by the stack's resource names. */
  namePrefix: string;
  /** Trainer image reference; defaults to `<repo>/trainer:latest`. */
  trainerImage?: pulumi.Input<string>;
  /** Serving image reference; defaults to `<repo>/serving:latest`. */
  servingImage?: pulumi.Input<string>;
}

export class Registry extends pulumi.ComponentResource {
  readonly images: gcp.artifactregistry.Repository;
  readonly functionImages: gcp.artifactregistry.Repository;
  /** `<region>-docker.pkg.dev/<project>/<repo>`: where `docker push` goes. */
  readonly imagesUrl: pulumi.Output<string>;
  readonly trainerImage: pulumi.Output<string>;
  readonly servingImage: pulumi.Output<string>;

  constructor(name: string, args: RegistryArgs, opts?: pulumi.ComponentResourceOptions) {
    super('droptune:registry:Registry', name, {}, opts);
    const child = () => childOptions(this, opts);
    this.images = new gcp.artifactregistry.Repository(
      `${name}-images`,
      {
        project: args.project,
        location: args.region,
        repositoryId: args.namePrefix,
        format: 'DOCKER',
        description: 'droptune trainer and serving images',
        cleanupPolicies: [
          { id: 'keep-recent', action: 'KEEP', mostRecentVersions: { keepCount: 20 } },
          {
            id: 'drop-old-untagged',
            action: 'DELETE',
            condition: { tagState: 'UNTAGGED', olderThan: '2592000s' },
          },
        ],
      },
      child(),
    );
    this.functionImages = new gcp.artifactregistry.Repository(
      `${name}-function-images`,
      {
        project: args.project,
        location: args.region,
        repositoryId: `${args.namePrefix}-functions`,
        format: 'DOCKER',
        description: 'images built by Cloud Functions from droptune function bundles',
        cleanupPolicies: [{ id: 'keep-recent', action: 'KEEP', mostRecentVersions: { keepCount: 5 } }],
      },
      child(),
    );
    this.imagesUrl = pulumi.interpolate`${this.images.location}-docker.pkg.dev/${this.images.project}/${this.images.repositoryId}`;
    this.trainerImage = args.trainerImage
      ? pulumi.output(args.trainerImage)
      : pulumi.interpolate`${this.imagesUrl}/trainer:latest`;
    this.servingImage = args.servingImage
      ? pulumi.output(args.servingImage)
      : pulumi.interpolate`${this.imagesUrl}/serving:latest`;
    this.registerOutputs({
      imagesUrl: this.imagesUrl,
      trainerImage: this.trainerImage,
      servingImage: this.servingImage,
    });
  }
}
