/**
 * An optional billing budget for the project with alerts at 50, 80 and 100 % of the amount,
 * e-mailed to the billing account's admins. GPU VMs are the cost that surprises people.
 */
import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import { childOptions } from './child-options.ts';

export const BUDGET_THRESHOLDS = [0.5, 0.8, 1.0] as const;

export interface BudgetArgs {
  /** Billing account id (`XXXXXX-XXXXXX-XXXXXX`) paying for the project. */
  billingAccount: pulumi.Input<string>;
  /** Project the budget watches. */
  project: pulumi.Input<string>;
  /** Monthly amount in `currency`. */
  amount: pulumi.Input<number>;
  /** ISO currency code of the billing account. */
  currency: pulumi.Input<string>;
  /** Short prefix shared by the stack's resource names. */
  namePrefix: string;
}

export class Budget extends pulumi.ComponentResource {
  readonly budget: gcp.billing.Budget;

  constructor(name: string, args: BudgetArgs, opts?: pulumi.ComponentResourceOptions) {
    super('droptune:billing:Budget', name, {}, opts);
    // Budgets filter by project number, not id.
    const project = gcp.organizations.getProjectOutput({ projectId: args.project }, { parent: this });
    this.budget = new gcp.billing.Budget(
      `${name}-budget`,
      {
        billingAccount: args.billingAccount,
        displayName: `${args.namePrefix} monthly`,
        budgetFilter: { projects: [pulumi.interpolate`projects/${project.number}`], calendarPeriod: 'MONTH' },
        amount: {
          specifiedAmount: {
            currencyCode: args.currency,
            units: pulumi.output(args.amount).apply((a) => String(Math.round(a))),
          },
        },
        thresholdRules: BUDGET_THRESHOLDS.map((thresholdPercent) => ({
          thresholdPercent,
          spendBasis: 'CURRENT_SPEND',
        })),
      },
      childOptions(this, opts),
    );
    this.registerOutputs({ budget: this.budget.name });
  }
}
