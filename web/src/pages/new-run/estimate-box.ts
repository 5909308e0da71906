/**
 * New run, step 4: how long the run will take (and, in the cloud, what it will cost), from the
 * checked file's row count, the form's settings and this installation's recent runs.
 */
import type { RunDetail, ValidationAnswer } from '../../api.ts';
import { h, replace } from '../../dom.ts';
import { basisFrom, estimate } from '../../estimate.ts';
import { formatDuration, formatUsd } from '../../format.ts';

/** Where the page runs: local stacks train on this machine, the cloud on a paid GPU. */
export type RunMode = 'local' | 'cloud';

export interface EstimateBox {
  element: HTMLElement;
  /** Redraws from the latest verdict, the form's raw values and the run history. */
  update(verdict: ValidationAnswer | null, raw: Record<string, unknown>, history: RunDetail[]): void;
}

export function estimateBox(mode: RunMode): EstimateBox {
  const element = h('div', { class: 'estimate', id: 'estimate', 'aria-live': 'polite' });
  return {
    element,
    update(verdict, raw, history) {
      if (!verdict?.ok) {
        replace(element, h('p', { class: 'muted' }, 'The estimate appears once the file is checked.'));
        return;
      }
      const basis = basisFrom(mode, history);
      const e = estimate(
        {
          rows: verdict.profile.rows,
          epochs: Number(raw.epochs) || 3,
          maxLength: Number(raw.maxLength) || 128,
          validationFraction: Number(raw.validationFraction) || 0.1,
        },
        basis,
      );
      replace(
        element,
        h(
          'p',
          null,
          h('strong', null, `About ${formatDuration(e.seconds * 1000)}`),
          mode === 'cloud' ? ` and ${formatUsd(e.usd)} of GPU time` : ' on this machine',
          '.',
        ),
        h(
          'p',
          { class: 'muted' },
          basis.source === 'history'
            ? 'Based on the speed of your recent successful runs.'
            : 'A rough guess (no finished run to learn from yet); the run page shows the real progress.',
        ),
      );
    },
  };
}
