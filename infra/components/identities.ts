/**
 * One service account per actor, so every grant names exactly who needs it and a leaked
 * credential opens one door. The bindings themselves live in `access.ts`, next to each other,
 * where a reviewer can read the whole permission table at once.
 */
import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import { childOptions } from './child-options.ts';

/** The actors of the flow, in the order an upload meets them. */
export const ACTORS = {
  eventarc: 'Eventarc trigger identity: delivers finalize events to onDatasetUploaded',
  trigger: 'onDatasetUploaded: validates a dropped CSV, records the run, starts the workflow',
  'control-api': 'control API: runs, metrics, registry, signed upload URLs',
  workflow: 'pipeline workflow: creates and deletes trainer VMs, deploys prediction services',
  trainer: 'trainer VM: reads the dataset, writes run artifacts, reports metrics',
  serving: 'prediction services on Cloud Run: read registered model versions',
  builder: 'Cloud Build for function sources (instead of the Compute default SA)',
} as const;

export type Actor = keyof typeof ACTORS;

export interface IdentitiesArgs {
  /** Project the service accounts are created in. */
  project: pulumi.Input<string>;
  /** Short prefix shared by the stack's resource names (account ids are `<prefix>-<actor>`). */
  namePrefix: string;
}

export class Identities extends pulumi.ComponentResource {
  readonly accounts: Record<Actor, gcp.serviceaccount.Account>;

  constructor(name: string, args: IdentitiesArgs, opts?: pulumi.ComponentResourceOptions) {
    super('droptune:identity:Identities', name, {}, opts);
    const entries = (Object.keys(ACTORS) as Actor[]).map((actor) => {
      const sa = new gcp.serviceaccount.Account(
        `${name}-${actor}`,
        {
          project: args.project,
          accountId: `${args.namePrefix}-${actor}`,
          displayName: `droptune ${actor}`,
          description: ACTORS[actor],
        },
        childOptions(this, opts),
      );
      return [actor, sa] as const;
    });
    this.accounts = Object.fromEntries(entries) as Record<Actor, gcp.serviceaccount.Account>;
    this.registerOutputs(Object.fromEntries(entries.map(([a, sa]) => [a, sa.email])));
  }

  /** `serviceAccount:<email>` for an actor. */
  member(actor: Actor): pulumi.Output<string> {
    return this.accounts[actor].member;
  }

  email(actor: Actor): pulumi.Output<string> {
    return this.accounts[actor].email;
  }
}
