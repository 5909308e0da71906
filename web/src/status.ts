/**
 * Run statuses in plain words: the badge, what each stage means, and what a person should do
 * about a run that did not succeed.
 */
import { HAPPY_PATH, isTerminal, type RunStatus } from '../../shared/contracts/run-status.ts';
import { h } from './dom.ts';

export { isTerminal };

/** The happy path, in order (the status timeline's steps). */
export const STAGES: readonly RunStatus[] = HAPPY_PATH;

export const STAGE_HELP: Record<RunStatus, string> = {
  queued: 'Waiting to start.',
  validating: 'Checking the CSV.',
  provisioning: 'Starting a training machine.',
  training: 'Fine-tuning the model.',
  registering: 'Saving the model as a new version.',
  deploying: 'Putting the new version behind the prediction URL.',
  succeeded: 'Done: the new version serves predictions.',
  rejected: 'The CSV was not accepted; nothing was trained.',
  failed: 'The run stopped with an error; the production model did not change.',
  cancelled: 'Cancelled; the production model did not change.',
  gated: 'Trained and saved, but not promoted: it did not pass the quality gate.',
};

/** What to do next, for runs that did not succeed. */
export const NEXT_STEP: Partial<Record<RunStatus, string>> = {
  rejected: 'Fix the file as described and upload it again (New run checks it before anything trains).',
  failed:
    'Nothing was deployed. If the reason is temporary (a machine was unavailable), start the run again.',
  gated:
    'The version is kept in Models: you can still promote it by hand if you accept the lower score, or add more or cleaner examples and train again.',
  cancelled: 'Start a new run when ready.',
};

export function statusBadge(status: RunStatus): HTMLElement {
  const kind =
    status === 'succeeded'
      ? 'ok'
      : status === 'rejected' || status === 'failed'
        ? 'bad'
        : status === 'gated' || status === 'cancelled'
          ? 'warn'
          : 'live';
  return h(
    'span',
    { class: `badge badge-${kind}`, 'data-status': status, title: STAGE_HELP[status] },
    status,
  );
}
