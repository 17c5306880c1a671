import type { StatsResponse } from './api.ts';
import { formatHour, formatPercent } from './format.ts';

/**
 * The per-hour chart of the overview, drawn as SVG by hand (no chart library to ship): grouped bars
 * for sent, delivered, read and failed, and the failure rate as a line on its own 0-100 % scale.
 * The same numbers are in a table next to it for screen readers and keyboard users.
 */

const SVG = 'http://www.w3.org/2000/svg';
const SERIES = [
  ['sent', 'Enviadas'],
  ['delivered', 'Entregues'],
  ['read', 'Lidas'],
  ['failed', 'Falhas'],
] as const;

const svg = (tag: string, attributes: Record<string, string | number>): SVGElement => {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  return element;
};

export const hourlyChart = (buckets: StatsResponse['buckets']): SVGElement => {
  const width = 720;
  const height = 220;
  const bottom = height - 24;
  const max = Math.max(1, ...buckets.flatMap((b) => SERIES.map(([key]) => b[key])));
  const slot = width / Math.max(1, buckets.length);
  const bar = Math.max(1, (slot - 4) / SERIES.length);
  const root = svg('svg', { viewBox: `0 0 ${width} ${height}`, class: 'chart', role: 'img' });
  const title = svg('title', {});
  title.textContent = 'Envios por hora nas últimas 24 horas';
  root.append(title);
  buckets.forEach((b, i) => {
    SERIES.forEach(([key], s) => {
      const value = b[key];
      const barHeight = (value / max) * (bottom - 8);
      root.append(
        svg('rect', {
          x: i * slot + 2 + s * bar,
          y: bottom - barHeight,
          width: bar,
          height: barHeight,
          class: `bar ${key}`,
        }),
      );
    });
    if (i % 3 === 0) {
      const label = svg('text', {
        x: i * slot + slot / 2,
        y: height - 6,
        class: 'axis',
        'text-anchor': 'middle',
      });
      label.textContent = formatHour(b.start);
      root.append(label);
    }
  });
  const rate = buckets
    .map((b, i) => `${i * slot + slot / 2},${bottom - b.failure_rate * (bottom - 8)}`)
    .join(' ');
  root.append(svg('polyline', { points: rate, class: 'rate' }));
  return root;
};

/** The chart's legend, as text. */
export const chartLegend = (): string[] => [
  ...SERIES.map(([, label]) => label),
  `Taxa de falha (linha, ${formatPercent(1)} no topo)`,
];
