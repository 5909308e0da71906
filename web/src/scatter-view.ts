/**
 * Regression's evaluation: each held-out row as a point at (true, predicted), with the line
 * predicted = true that a perfect model would sit on, as an SVG (crisp at any zoom, no canvas
 * code). The figure's caption says how many points and the range, for readers without the plot.
 */
import { h } from './dom.ts';
import { formatInt, formatMetric } from './format.ts';

const SVG = 'http://www.w3.org/2000/svg';
const SIZE = 320;
const PAD = 36;

function svg(tag: string, attrs: Record<string, string | number>, text?: string): SVGElement {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

/** `points`: held-out `[true, predicted]` pairs (metrics.json `validation.points`). */
export function scatterView(points: readonly (readonly [number, number])[]): HTMLElement {
  if (points.length === 0)
    return h('p', { class: 'muted', id: 'regression-scatter' }, 'No held-out points were recorded.');
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const [t, p] of points) {
    lo = Math.min(lo, t, p);
    hi = Math.max(hi, t, p);
  }
  if (hi === lo) hi = lo + 1;
  const scale = (v: number) => PAD + ((v - lo) / (hi - lo)) * (SIZE - 2 * PAD);
  const x = scale;
  const y = (v: number) => SIZE - scale(v);
  const plot = svg('svg', {
    viewBox: `0 0 ${SIZE} ${SIZE}`,
    width: SIZE,
    height: SIZE,
    role: 'img',
    'aria-label': `Predicted against true value for ${points.length} held-out rows`,
  });
  plot.append(
    svg('line', {
      class: 'ideal',
      x1: x(lo),
      y1: y(lo),
      x2: x(hi),
      y2: y(hi),
      stroke: 'currentColor',
      'stroke-dasharray': '4 4',
      opacity: 0.5,
    }),
    svg('text', { x: SIZE / 2, y: SIZE - 6, 'text-anchor': 'middle', 'font-size': 11 }, 'true value'),
    svg(
      'text',
      {
        x: 12,
        y: SIZE / 2,
        'text-anchor': 'middle',
        'font-size': 11,
        transform: `rotate(-90 12 ${SIZE / 2})`,
      },
      'predicted',
    ),
    svg('text', { x: PAD, y: SIZE - PAD + 14, 'font-size': 10 }, formatMetric('value', lo)),
    svg(
      'text',
      { x: SIZE - PAD, y: SIZE - PAD + 14, 'font-size': 10, 'text-anchor': 'end' },
      formatMetric('value', hi),
    ),
  );
  for (const [t, p] of points) {
    const dot = svg('circle', {
      class: 'point',
      cx: x(t).toFixed(1),
      cy: y(p).toFixed(1),
      r: 2.5,
      fill: 'currentColor',
      opacity: 0.6,
    });
    dot.append(svg('title', {}, `true ${formatMetric('value', t)}, predicted ${formatMetric('value', p)}`));
    plot.append(dot);
  }
  return h(
    'figure',
    { class: 'scatter', id: 'regression-scatter', 'data-points': String(points.length) },
    plot,
    h(
      'figcaption',
      null,
      `Predicted against true value, ${formatInt(points.length)} held-out rows (${formatMetric('value', lo)} to ${formatMetric('value', hi)}); the dashed line is a perfect prediction.`,
    ),
  );
}
