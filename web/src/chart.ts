/**
 * Line charts on uPlot (canvas; 10,000+ points redraw in a few milliseconds). One wrapper so
 * every chart on the page has the same look, resizes with its box, and describes itself to
 * screen readers (the figure's caption states the latest value of each series).
 */
import uPlot from 'uplot';
import { h } from './dom.ts';
import { formatMetric } from './format.ts';

export interface SeriesSpec {
  label: string;
  /** Metric key, for value formatting. */
  key: string;
  /** Draw points (for sparse per-epoch series). */
  points?: boolean;
  dash?: number[];
}

/** Distinguishable on white and for common colour blindness (Okabe–Ito). */
export const PALETTE = [
  '#0072b2',
  '#d55e00',
  '#009e73',
  '#cc79a7',
  '#e69f00',
  '#56b4e9',
  '#000000',
  '#f0e442',
];

export interface LineChart {
  element: HTMLElement;
  /** `x` ascending; each `ys[i]` aligned with `x` (null where the series has no value). */
  setData(x: number[], ys: (number | null)[][]): void;
  destroy(): void;
}

export function lineChart(opts: {
  title: string;
  xLabel: string;
  series: SeriesSpec[];
  height?: number;
}): LineChart {
  const caption = h('figcaption', { class: 'visually-hidden' });
  const plotBox = h('div', { class: 'chart-plot' });
  const empty = h('p', { class: 'chart-empty muted' }, 'No points yet.');
  const element = h(
    'figure',
    { class: 'chart', role: 'group', 'aria-label': opts.title, 'data-points': '0' },
    h('h3', { class: 'chart-title' }, opts.title),
    plotBox,
    empty,
    caption,
  );
  let plot: uPlot | undefined;
  let lastData: uPlot.AlignedData = [[], ...opts.series.map(() => [])];

  const make = (width: number) => {
    plot?.destroy();
    plot = new uPlot(
      {
        width: Math.max(240, width),
        height: opts.height ?? 240,
        cursor: { drag: { x: true, y: false } },
        scales: { x: { time: false } },
        axes: [{ label: opts.xLabel, labelSize: 20 }, { size: 56 }],
        series: [
          { label: opts.xLabel },
          ...opts.series.map((s, i) => ({
            label: s.label,
            stroke: PALETTE[i % PALETTE.length],
            width: 1.5,
            dash: s.dash,
            spanGaps: true,
            points: { show: s.points ?? false, size: 6 },
            value: (_u: uPlot, v: number | null) => (v === null ? '—' : formatMetric(s.key, v)),
          })),
        ],
      },
      lastData,
      plotBox,
    );
  };

  const resize = new ResizeObserver((entries) => {
    const width = Math.floor(entries[0]?.contentRect.width ?? 0);
    if (width <= 0) return;
    if (!plot) make(width);
    else if (Math.abs(plot.width - width) > 2)
      plot.setSize({ width: Math.max(240, width), height: plot.height });
  });
  resize.observe(plotBox);

  return {
    element,
    setData(x, ys) {
      lastData = [x, ...ys] as uPlot.AlignedData;
      plot?.setData(lastData);
      const count = ys.reduce((n, y) => n + y.reduce<number>((c, v) => c + (v === null ? 0 : 1), 0), 0);
      element.dataset.points = String(count);
      empty.hidden = count > 0;
      caption.textContent = opts.series
        .map((s, i) => {
          const y = ys[i] ?? [];
          for (let j = y.length - 1; j >= 0; j--) {
            if (y[j] !== null) return `${s.label}: ${formatMetric(s.key, y[j]!)} at ${opts.xLabel} ${x[j]}`;
          }
          return `${s.label}: no points yet`;
        })
        .join('; ');
    },
    destroy() {
      resize.disconnect();
      plot?.destroy();
    },
  };
}

/** Aligns several (x, y) series on the union of their x values, as uPlot wants. */
export function alignSeries(series: { x: number[]; y: number[] }[]): {
  x: number[];
  ys: (number | null)[][];
} {
  const xs = new Set<number>();
  for (const s of series) for (const v of s.x) xs.add(v);
  const x = [...xs].sort((a, b) => a - b);
  const index = new Map(x.map((v, i) => [v, i]));
  const ys = series.map((s) => {
    const y: (number | null)[] = new Array(x.length).fill(null);
    for (let i = 0; i < s.x.length; i++) y[index.get(s.x[i]!)!] = s.y[i]!;
    return y;
  });
  return { x, ys };
}
