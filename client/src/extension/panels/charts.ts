// Grouped bar charts as SVG strings: categories along x, one bar per series in each category, a y axis from 0
// with "nice" ticks. Colours come from VS Code's chart theme variables through classes (the page's CSP allows
// no inline style attributes), and every chart carries its data as a table for screen readers and keyboards.
import { escapeHtml } from './page';

export interface BarSeries {
  name: string;
  /** One value per category; null = not measured (no bar, "n/a" label). */
  values: ReadonlyArray<number | null>;
  /** Per category, the lowest and highest of the runs behind the value: a whisker over the bar, and in the labels. */
  ranges?: ReadonlyArray<readonly [number, number] | null>;
}

export interface BarChartSpec {
  /** What the chart shows, e.g. "Latency per step, generate"; the svg's accessible name starts with it. */
  title: string;
  /** The y axis' unit, e.g. "ms / step". */
  unit: string;
  categories: readonly string[];
  series: readonly BarSeries[];
  /** The label above a bar; default: the value with 4 significant digits. */
  valueLabel?: (value: number, series: number, category: number) => string;
}

/** The drawing area: a fixed viewBox (the svg scales to the panel's width through CSS). */
export const CHART_BOX = { width: 600, height: 300, left: 64, right: 16, top: 24, bottom: 56 } as const;
const PLOT_WIDTH = CHART_BOX.width - CHART_BOX.left - CHART_BOX.right;
const PLOT_HEIGHT = CHART_BOX.height - CHART_BOX.top - CHART_BOX.bottom;
/** The share of a category's width its bars take (the rest is the gap between categories). */
const BARS_SHARE = 0.8;
/** About the width of a character of the 11-unit label font: a value label wider than its bar's slot is left out
 *  (neighbouring labels would overlap); the bar's tooltip and the data table still carry it. */
const LABEL_CHAR_WIDTH = 6.2;
/** VS Code's chart colours, in the order series use them. */
export const SERIES_COLOURS = ['blue', 'orange', 'green', 'purple', 'red', 'yellow'] as const;

/** Rounds to 2 decimals for compact, stable SVG coordinates. */
export const coord = (n: number): number => Math.round(n * 100) / 100;

const clean = (n: number): number => Number(n.toPrecision(12));

/** Ticks from 0 to the first multiple of a 1/2/5×10^k step at or above `max`, about `target` intervals. */
export function niceTicks(max: number, target = 5): number[] {
  if (!(max > 0) || !Number.isFinite(max)) return [0, 1];
  const raw = max / target;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const normalised = raw / magnitude;
  const step = (normalised <= 1 ? 1 : normalised <= 2 ? 2 : normalised <= 5 ? 5 : 10) * magnitude;
  const intervals = Math.ceil(clean(max / step));
  return Array.from({ length: intervals + 1 }, (_, i) => clean(i * step));
}

export const defaultValueLabel = (value: number): string => String(Number(value.toPrecision(4)));

/** The SVG (accessible name, axes, bars with their labels), its legend and its data table. */
export function barChart(spec: BarChartSpec): string {
  const values = spec.series.flatMap((s) =>
    [...s.values, ...(s.ranges ?? []).map((r) => r?.[1] ?? null)].filter((v): v is number => v !== null && Number.isFinite(v)),
  );
  const ticks = niceTicks(Math.max(0, ...values));
  const yMax = ticks[ticks.length - 1];
  const y = (v: number): number => CHART_BOX.top + PLOT_HEIGHT - (Math.max(0, v) / yMax) * PLOT_HEIGHT;
  const label = spec.valueLabel ?? defaultValueLabel;
  const groupWidth = PLOT_WIDTH / Math.max(1, spec.categories.length);
  const barWidth = (groupWidth * BARS_SHARE) / Math.max(1, spec.series.length);
  const parts: string[] = [];

  for (const tick of ticks) {
    const ty = coord(y(tick));
    parts.push(`<line class="grid" x1="${CHART_BOX.left}" y1="${ty}" x2="${CHART_BOX.width - CHART_BOX.right}" y2="${ty}"/>`);
    parts.push(`<text class="tick" x="${CHART_BOX.left - 6}" y="${ty}" text-anchor="end" dominant-baseline="middle">${tick}</text>`);
  }
  const axisY = CHART_BOX.top + PLOT_HEIGHT;
  parts.push(`<line class="axis" x1="${CHART_BOX.left}" y1="${axisY}" x2="${CHART_BOX.width - CHART_BOX.right}" y2="${axisY}"/>`);
  parts.push(
    `<text class="unit" x="14" y="${coord(CHART_BOX.top + PLOT_HEIGHT / 2)}" text-anchor="middle" transform="rotate(-90 14 ${coord(CHART_BOX.top + PLOT_HEIGHT / 2)})">${escapeHtml(spec.unit)}</text>`,
  );

  spec.categories.forEach((category, c) => {
    const groupX = CHART_BOX.left + c * groupWidth + (groupWidth * (1 - BARS_SHARE)) / 2;
    spec.series.forEach((series, s) => {
      const value = series.values[c] ?? null;
      const x = groupX + s * barWidth;
      const centre = coord(x + barWidth / 2);
      if (value === null || !Number.isFinite(value)) {
        parts.push(`<text class="value" x="${centre}" y="${axisY - 4}" text-anchor="middle">n/a</text>`);
        return;
      }
      const top = y(value);
      const text = label(value, s, c);
      const range = series.ranges?.[c] ?? null;
      const spread = range === null ? '' : ` (runs ${label(range[0], s, c)}–${label(range[1], s, c)})`;
      parts.push(
        `<rect class="bar series-${s % SERIES_COLOURS.length}" x="${coord(x)}" y="${coord(top)}" width="${coord(barWidth)}" height="${coord(axisY - top)}" data-value="${value}"><title>${escapeHtml(`${category}, ${series.name}: ${text} ${spec.unit}${spread}`)}</title></rect>`,
      );
      if (range !== null) parts.push(whisker(centre, y(range[0]), y(range[1]), barWidth));
      const labelTop = range === null ? top : Math.min(top, y(range[1]));
      if (text.length * LABEL_CHAR_WIDTH <= barWidth * 1.1) {
        parts.push(`<text class="value" x="${centre}" y="${coord(labelTop - 4)}" text-anchor="middle">${escapeHtml(text)}</text>`);
      }
    });
    parts.push(
      `<text class="category" x="${coord(CHART_BOX.left + (c + 0.5) * groupWidth)}" y="${axisY + 18}" text-anchor="middle">${escapeHtml(category)}</text>`,
    );
  });

  const name = `${spec.title} (${spec.unit}) by ${spec.series.map((s) => s.name).join(', ')}; the data table follows the chart`;
  const svg = `<svg class="chart-svg" role="img" aria-label="${escapeHtml(name)}" viewBox="0 0 ${CHART_BOX.width} ${CHART_BOX.height}">\n${parts.join('\n')}\n</svg>`;
  return `<div class="chart">\n<h3>${escapeHtml(spec.title)}</h3>\n${svg}\n${legend(spec.series)}\n${dataTable(spec, label)}\n</div>`;
}

/** A vertical line from low to high with short caps: the spread of the runs behind a bar. */
function whisker(x: number, low: number, high: number, barWidth: number): string {
  const cap = coord(Math.min(6, barWidth / 4));
  return `<path class="range" d="M${x} ${coord(low)}V${coord(high)}M${coord(x - cap)} ${coord(low)}H${coord(x + cap)}M${coord(x - cap)} ${coord(high)}H${coord(x + cap)}"/>`;
}

function legend(series: readonly BarSeries[]): string {
  const items = series.map(
    (s, i) =>
      `<li><svg class="swatch" viewBox="0 0 10 10" aria-hidden="true"><rect class="series-${i % SERIES_COLOURS.length}" width="10" height="10"/></svg>${escapeHtml(s.name)}</li>`,
  );
  return `<ul class="legend">${items.join('')}</ul>`;
}

function dataTable(spec: BarChartSpec, label: NonNullable<BarChartSpec['valueLabel']>): string {
  const head = `<tr><th scope="col">${escapeHtml(spec.unit)}</th>${spec.series.map((s) => `<th scope="col">${escapeHtml(s.name)}</th>`).join('')}</tr>`;
  const rows = spec.categories.map((category, c) => {
    const cells = spec.series.map((s, i) => {
      const v = s.values[c] ?? null;
      const r = s.ranges?.[c] ?? null;
      const spread = r === null ? '' : ` (${label(r[0], i, c)}–${label(r[1], i, c)})`;
      return `<td class="number">${v === null || !Number.isFinite(v) ? 'n/a' : escapeHtml(label(v, i, c) + spread)}</td>`;
    });
    return `<tr><th scope="row">${escapeHtml(category)}</th>${cells.join('')}</tr>`;
  });
  return `<details><summary>Data: ${escapeHtml(spec.title)}</summary><table><caption>${escapeHtml(spec.title)}</caption>${head}${rows.join('')}</table></details>`;
}

/** Chart rules for the page's stylesheet: theme colours per series, muted axes. */
export const CHART_CSS = `
  .chart { margin: 1em 0 1.5em; max-width: ${CHART_BOX.width}px; }
  .chart h3 { font-size: 1em; font-weight: 600; margin: 0.5em 0; }
  .chart-svg { width: 100%; height: auto; }
  .chart-svg text { fill: var(--vscode-foreground); font-size: 11px; }
  .chart-svg .tick, .chart-svg .unit { fill: var(--vscode-descriptionForeground); }
  .chart-svg .grid { stroke: var(--vscode-charts-lines, var(--vscode-widget-border)); stroke-opacity: 0.4; }
  .chart-svg .axis { stroke: var(--vscode-charts-lines, var(--vscode-foreground)); }
  .chart-svg .range { stroke: var(--vscode-foreground); stroke-width: 1.5; fill: none; }
  .legend { list-style: none; padding: 0; margin: 0.25em 0; display: flex; flex-wrap: wrap; gap: 1em; }
  .legend .swatch { width: 10px; height: 10px; margin-right: 0.4em; vertical-align: baseline; }
${SERIES_COLOURS.map((c, i) => `  .series-${i} { fill: var(--vscode-charts-${c}); }`).join('\n')}
`;
