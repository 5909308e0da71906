/**
 * Defaults for the prediction services the workflow deploys on Cloud Run: the identity they run
 * as, what it may read, and who may call them. The services themselves are created per model at
 * run time by the workflow, so invoker grants cannot be made here; they are handed to the workflow
 * (SERVING_INVOKERS / SERVING_ALLOW_UNAUTHENTICATED), which sets them on each service it deploys.
 * A project-level run.invoker would be wrong: it would also open the two functions (gen2 functions
 * are Cloud Run services).
 */
import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import { childOptions } from './child-options.ts';

export interface ServingArgs {
  /** Models bucket the services read registered versions from. */
  modelsBucket: pulumi.Input<string>;
  /** `serviceAccount:<email>` of the serving identity. */
  servingMember: pulumi.Input<string>;
  /** Principals allowed to invoke prediction services (besides the workflow's smoke test). */
  invokers: string[];
  /** Whether `allUsers` may invoke them; also required to list allUsers/allAuthenticatedUsers in `invokers`. */
  allowUnauthenticated: boolean;
}

export class Serving extends pulumi.ComponentResource {
  /** Members the workflow grants roles/run.invoker on each prediction service. */
  readonly invokers: string[];

  constructor(name: string, args: ServingArgs, opts?: pulumi.ComponentResourceOptions) {
    super('droptune:serving:Serving', name, {}, opts);
    const open = args.invokers.filter((m) => m === 'allUsers' || m === 'allAuthenticatedUsers');
    if (open.length > 0 && !args.allowUnauthenticated) {
      throw new Error(
        `serving invoker ${open[0]} requires allowUnauthenticated (droptune:servingAllowUnauthenticated=true)`,
      );
    }
    this.invokers = [...new Set([...args.invokers, ...(args.allowUnauthenticated ? ['allUsers'] : [])])];
    new gcp.storage.BucketIAMMember(
      `${name}-models-reader`,
      { bucket: args.modelsBucket, role: 'roles/storage.objectViewer', member: args.servingMember },
      childOptions(this, opts),
    );
    this.registerOutputs({ invokers: this.invokers });
  }
}
