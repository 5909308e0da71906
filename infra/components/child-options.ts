import type * as pulumi from '@pulumi/pulumi';

/**
 * Options for a component's child: parented to the component and inheriting the component's
 * `dependsOn`. Pulumi does not pass a component's `dependsOn` down to its children, and the
 * children are what call the APIs, so without this a bucket could be created before
 * `storage.googleapis.com` is enabled on a fresh project.
 */
export function childOptions(
  parent: pulumi.ComponentResource,
  componentOpts: pulumi.ComponentResourceOptions | undefined,
  extra: pulumi.CustomResourceOptions = {},
): pulumi.CustomResourceOptions {
  const inherited = componentOpts?.dependsOn;
  const own = extra.dependsOn;
  const dependsOn: pulumi.Input<pulumi.Input<pulumi.Resource>[]> | undefined =
    inherited && own
      ? ([] as pulumi.Input<pulumi.Resource>[]).concat(
          inherited as pulumi.Input<pulumi.Resource>[],
          own as pulumi.Input<pulumi.Resource>[],
        )
      : ((own ?? inherited) as pulumi.Input<pulumi.Input<pulumi.Resource>[]> | undefined);
  return { ...extra, parent, dependsOn };
}
