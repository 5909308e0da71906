/**
 * The quality gate's comparison on the run page: both scores, the rows both were scored on, the
 * decision and its reason — so a user sees why a model was or was not promoted — and how the
 * rows were split (duplicates, conflicts, truncated texts).
 */
import type { RunGate, RunSplit } from './api.ts';
import { h } from './dom.ts';
import { formatMetric } from './format.ts';

const DECISION: Record<RunGate['decision'], string> = {
  promote: 'Promoted',
  hold: 'Held back',
  'no-champion': 'First model (no champion to compare)',
};

export function gateView(
  gate: RunGate | null | undefined,
  split: RunSplit | null | undefined,
): HTMLElement | null {
  if (!gate && !split) return null;
  const row = (label: string, value: string) =>
    h('tr', null, h('th', { scope: 'row' }, label), h('td', null, value));
  return h(
    'section',
    { 'aria-labelledby': 'gate-title', id: 'gate' },
    h('h2', { id: 'gate-title' }, 'Quality gate'),
    gate
      ? h(
          'table',
          { 'aria-label': 'Quality gate comparison' },
          h(
            'tbody',
            null,
            row('Decision', DECISION[gate.decision] ?? gate.decision),
            row(`This model (${gate.metric})`, formatMetric(gate.metric, gate.challenger)),
            row(
              `Production model (${gate.metric})`,
              gate.champion === null ? '—' : formatMetric(gate.metric, gate.champion),
            ),
            row('Rows compared', String(gate.rows)),
            row('Why', gate.reason),
          ),
        )
      : null,
    split
      ? h(
          'p',
          { class: 'muted', 'data-split': split.method },
          `Split by ${split.method === 'hash' ? 'text hash' : 'the split column'}: ${split.trainRows} training and ${split.validationRows} validation rows; ` +
            `${split.duplicates} duplicates collapsed, ${split.conflicts} conflicting texts left out, ${split.truncated} texts truncated.`,
        )
      : null,
  );
}
