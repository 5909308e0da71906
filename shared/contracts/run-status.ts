import { z } from 'zod';

/** Run statuses (DESIGN.md "Run statuses"). */
export const RUN_STATUSES = [
  'queued',
  'validating',
  'provisioning',
  'training',
  'registering',
  'deploying',
  'succeeded',
  'rejected',
  'failed',
  'cancelled',
  'gated',
] as const;
export const RunStatus = z.enum(RUN_STATUSES);
export type RunStatus = z.infer<typeof RunStatus>;

/** The happy path, in order: what a run goes through when nothing goes wrong. */
export const HAPPY_PATH: readonly RunStatus[] = RUN_STATUSES.slice(0, 7);

export const TERMINAL_STATUSES: readonly RunStatus[] = [
  'succeeded',
  'rejected',
  'failed',
  'cancelled',
  'gated',
];

/**
 * Allowed transitions: the happy path, plus `failed`/`cancelled` from any live status,
 * `rejected` only while the input is being checked, `gated` only after registration, and
 * `training → provisioning` for a preempted Spot VM that is provisioned again to resume.
 * Terminal statuses have no way out. Setting a run to the status it has is a no-op
 * (so a retried workflow step is safe), not an error.
 */
export const TRANSITIONS: Readonly<Record<RunStatus, readonly RunStatus[]>> = {
  queued: ['validating', 'rejected', 'failed', 'cancelled'],
  validating: ['provisioning', 'rejected', 'failed', 'cancelled'],
  provisioning: ['training', 'failed', 'cancelled'],
  training: ['registering', 'provisioning', 'failed', 'cancelled'],
  registering: ['deploying', 'gated', 'failed', 'cancelled'],
  deploying: ['succeeded', 'failed', 'cancelled'],
  succeeded: [],
  rejected: [],
  failed: [],
  cancelled: [],
  gated: [],
};

export function isTerminal(status: RunStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

/** Statuses a run may be in to move to `to`. */
export function allowedFrom(to: RunStatus): RunStatus[] {
  return RUN_STATUSES.filter((from) => TRANSITIONS[from].includes(to));
}
