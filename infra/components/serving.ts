/**
 * Defaults for the prediction services the workflow deploys on Cloud Run (one per model, named
 * `predict-<modelName>` by workflows/pipeline.yaml): the identity they run as, what it may read,
 * and who may call them.
 *
 * The services are created at run time, so no service-level binding can exist beforehand. The
 * invoker list is therefore granted at project level with an IAM condition that matches only
 * services named `predict-*`: a plain project-level run.invoker would also open the two functions
 * (gen2 functions are Cloud Run services). `allUsers` cannot be granted at project level at all;
 * with `allowUnauthenticated` the workflow sets it on each service it deploys (ALLOW_UNAUTHENTICATED).
 */
import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import { childOptions } from './child-options.ts';

/** Service-name prefix of prediction services; mirrors `serviceId: "predict-" + modelName` in pipeline.yaml. */
export const PREDICTION_SERVICE_PREFIX = 'predict-';

/**
 * IAM condition that limits a project-level grant to Cloud Run services named `predict-*`: gen2
 * functions are Cloud Run services too, and must stay out of reach of these grants.
 */
export const PREDICTION_SERVICES_CONDITION = {
  title: 'droptune-prediction-services-only',
  description: `Only Cloud Run services named ${PREDICTION_SERVICE_PREFIX}*`,
  expression: `resource.type == "run.googleapis.com/Service" && resource.name.extract("/services/{name}").startsWith("${PREDICTION_SERVICE_PREFIX}")`,
};

export interface ServingArgs {
  /** Project the prediction services run in. */
  project: pulumi.Input<string>;
  /** Models bucket the services read registered versions from. */
  modelsBucket: pulumi.Input<string>;
  /** `serviceAccount:<email>` of the serving identity. */
  servingMember: pulumi.Input<string>;
  /** Principals (never allUsers/allAuthenticatedUsers) allowed to invoke every prediction service. */
  invokers: string[];
  /** Whether the workflow makes each prediction service public (allUsers). */
  allowUnauthenticated: boolean;
  /** Stack identities that call every prediction service (the control API's predict proxy), by label. */
  stackInvokers?: Record<string, pulumi.Input<string>>;
}

export class Serving extends pulumi.ComponentResource {
  /** Value of the workflow's ALLOW_UNAUTHENTICATED. */
  readonly allowUnauthenticated: string;

  constructor(name: string, args: ServingArgs, opts?: pulumi.ComponentResourceOptions) {
    super('droptune:serving:Serving', name, {}, opts);
    const child = () => childOptions(this, opts);
    const open: string[] = args.invokers.filter((m) => m === 'allUsers' || m === 'allAuthenticatedUsers');
    if (open.length > 0 && !args.allowUnauthenticated) {
      throw new Error(
        `serving invoker ${open[0]} requires allowUnauthenticated (droptune:servingAllowUnauthenticated=true)`,
      );
    }
    this.allowUnauthenticated = String(args.allowUnauthenticated || open.length > 0);

    new gcp.storage.BucketIAMMember(
      `${name}-models-reader`,
      { bucket: args.modelsBucket, role: 'roles/storage.objectViewer', member: args.servingMember },
      child(),
    );
    const invokers: [string, pulumi.Input<string>][] = [
      ...args.invokers.filter((m) => !open.includes(m)).map((m) => [m, m] as [string, string]),
      ...Object.entries(args.stackInvokers ?? {}),
    ];
    for (const [label, member] of invokers) {
      new gcp.projects.IAMMember(
        `${name}-invoker-${label.replace(/[^a-zA-Z0-9]+/g, '-')}`,
        {
          project: args.project,
          role: 'roles/run.invoker',
          member,
          condition: PREDICTION_SERVICES_CONDITION,
        },
        child(),
      );
    }
    this.registerOutputs({ allowUnauthenticated: this.allowUnauthenticated });
  }
}
