/**
 * The status timeline: the happy-path stages in order, each marked done, current or pending,
 * with the time it was entered (from the run's status history). A run that stopped early shows
 * its final status after the stage where it stopped.
 */
import type { RunStatus } from '../../shared/contracts/run-status.ts';
import type { RunDetail } from './api.ts';
import { h } from './dom.ts';
import { formatTime } from './format.ts';
import { isTerminal, STAGE_HELP, STAGES } from './status.ts';

export function timelineView(run: RunDetail): HTMLElement {
  const entered = new Map<RunStatus, string>();
  for (const change of run.history ?? [])
    if (!entered.has(change.toStatus)) entered.set(change.toStatus, change.at);
  if (!entered.has('queued')) entered.set('queued', run.createdAt);
  if (!entered.has(run.status)) entered.set(run.status, run.updatedAt);

  const offPath = !STAGES.includes(run.status);
  // The stage the run reached: for an off-path end, the last happy-path stage it entered.
  const reached = offPath
    ? Math.max(0, ...STAGES.map((s, i) => (entered.has(s) ? i : -1)))
    : STAGES.indexOf(run.status);
  const steps = STAGES.map((stage, i) => {
    let state: 'done' | 'current' | 'pending' | 'stopped';
    if (i < reached) state = 'done';
    else if (i === reached)
      state = offPath
        ? run.status === 'gated'
          ? 'done'
          : 'stopped'
        : isTerminal(run.status)
          ? 'done'
          : 'current';
    else state = 'pending';
    return { stage, state, at: entered.get(stage) };
  });
  if (offPath)
    steps.splice(reached + 1, steps.length, {
      stage: run.status,
      state: 'stopped',
      at: entered.get(run.status),
    });

  return h(
    'ol',
    { class: 'timeline', 'aria-label': 'Status timeline' },
    steps.map((s) =>
      h(
        'li',
        {
          class: `step step-${s.state} step-${s.stage}`,
          'aria-current': s.state === 'current' ? 'step' : null,
        },
        h('span', { class: 'step-dot', 'aria-hidden': 'true' }),
        h('span', { class: 'step-name' }, s.stage),
        h('span', { class: 'visually-hidden' }, ` (${s.state})`),
        h(
          'span',
          { class: 'step-time', title: STAGE_HELP[s.stage] },
          s.at ? formatTime(s.at).split(', ').pop() : '',
        ),
      ),
    ),
  );
}
