/** A run's hyper-parameters as a table, marking the ones that differ from the defaults. */
import { SHOWN_DEFAULTS } from '../../shared/contracts/model-settings.ts';
import { h } from './dom.ts';

/** Flattens `{gate: {minAccuracy}}` into `gate.minAccuracy`. */
export function flatten(obj: Record<string, unknown>, prefix = ''): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    if (v && typeof v === 'object' && !Array.isArray(v))
      Object.assign(out, flatten(v as Record<string, unknown>, `${prefix}${k}.`));
    else out[`${prefix}${k}`] = v;
  }
  return out;
}

const DEFAULTS = flatten(SHOWN_DEFAULTS as unknown as Record<string, unknown>);

export function paramsView(params: Record<string, unknown>): HTMLElement {
  const flat = flatten(params ?? {});
  const keys = Object.keys(flat).sort();
  if (keys.length === 0) return h('p', { class: 'muted' }, 'Defaults (no parameters recorded).');
  return h(
    'table',
    { class: 'data params' },
    h(
      'thead',
      null,
      h('tr', null, h('th', { scope: 'col' }, 'Parameter'), h('th', { scope: 'col' }, 'Value')),
    ),
    h(
      'tbody',
      null,
      keys.map((k) => {
        const changed = k in DEFAULTS && JSON.stringify(DEFAULTS[k]) !== JSON.stringify(flat[k]);
        return h(
          'tr',
          { class: changed ? 'changed' : null },
          h('th', { scope: 'row' }, h('code', null, k)),
          h(
            'td',
            null,
            String(flat[k]),
            changed ? h('span', { class: 'muted' }, ` (default ${String(DEFAULTS[k])})`) : null,
          ),
        );
      }),
    ),
  );
}
