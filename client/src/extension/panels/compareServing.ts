// Two serving benchmarks side by side (e.g. one model served as GPTQ and as AWQ, or by vLLM and by TGI): the
// levels matched by concurrency, each figure of A and B with B's change, and charts of throughput, time to first
// token and time per output token with a bar per run at each level.
import type { RunResult, ServingLevel } from '../../jobs';
import { barChart } from './charts';
import { escapeHtml } from './page';

import { DASH, fixedOr, signed } from './format';

interface Figure {
  head: string;
  unit: string;
  /** Charted, under this test id; undefined: table only. */
  chart?: string;
  value: (l: ServingLevel) => number;
  digits: number;
  /** Throughput compares as a ratio (B / A), latencies as a difference (B − A). */
  ratio: boolean;
}

const FIGURES: readonly Figure[] = [
  {
    head: 'Output tokens/s',
    unit: 'tokens/s',
    chart: 'compare-serving-throughput',
    value: (l) => l.outputTokensPerSecond,
    digits: 1,
    ratio: true,
  },
  { head: 'Requests/s', unit: 'requests/s', value: (l) => l.requestsPerSecond, digits: 2, ratio: true },
  {
    head: 'TTFT median (ms)',
    unit: 'ms',
    chart: 'compare-serving-ttft',
    value: (l) => l.timeToFirstTokenMs.median,
    digits: 1,
    ratio: false,
  },
  {
    head: 'TPOT median (ms)',
    unit: 'ms',
    chart: 'compare-serving-tpot',
    value: (l) => l.timePerOutputTokenMs.median,
    digits: 2,
    ratio: false,
  },
];

const cell = (text: string): string => `<td class="number">${escapeHtml(text)}</td>`;

function change(a: number | undefined, b: number | undefined, f: Figure): string {
  if (a === undefined || b === undefined) return DASH;
  if (f.ratio) return a > 0 ? `×${(b / a).toFixed(2)}` : DASH;
  return signed(b - a, f.digits);
}

/** The concurrency levels of either run, ascending. */
function levelsOf(a: readonly ServingLevel[], b: readonly ServingLevel[]): number[] {
  return [...new Set([...a, ...b].map((l) => l.concurrency))].sort((x, y) => x - y);
}

export function servingComparison(a: RunResult, b: RunResult): string {
  const [la, lb] = [a.serving ?? [], b.serving ?? []];
  const levels = levelsOf(la, lb);
  const at = (runs: readonly ServingLevel[], c: number) => runs.find((l) => l.concurrency === c);
  const head = [
    '<th scope="col">Concurrency</th>',
    ...FIGURES.flatMap((f) => [
      `<th scope="col">${f.head} A</th>`,
      `<th scope="col">B</th>`,
      `<th scope="col">${f.ratio ? 'B / A' : 'B − A'}</th>`,
    ]),
  ].join('');
  const rows = levels.map((c) => {
    const [ra, rb] = [at(la, c), at(lb, c)];
    const cells = FIGURES.flatMap((f) => {
      const [va, vb] = [ra && f.value(ra), rb && f.value(rb)];
      return [cell(fixedOr(va, f.digits)), cell(fixedOr(vb, f.digits)), cell(change(va, vb, f))];
    });
    return `<tr><th scope="row">${c}</th>${cells.join('')}</tr>`;
  });
  const caption = `<caption>Serving levels matched by concurrency (${DASH} = not run in that benchmark)</caption>`;
  const table = `<table data-testid="compare-serving">\n${caption}\n<thead><tr>${head}</tr></thead>\n<tbody>\n${rows.join('\n')}\n</tbody>\n</table>`;
  const values = (runs: readonly ServingLevel[], f: Figure) =>
    levels.map((c) => {
      const level = at(runs, c);
      return level ? f.value(level) : null;
    });
  const charts = FIGURES.filter((f) => f.chart !== undefined).map((f) => {
    const series = [
      { name: 'A', values: values(la, f) },
      { name: 'B', values: values(lb, f) },
    ];
    const chart = barChart({ title: f.head, unit: f.unit, categories: levels.map((c) => `concurrency ${c}`), series });
    return `<figure data-testid="${f.chart}" aria-label="${escapeHtml(f.head)}">\n${chart}\n</figure>`;
  });
  return `${table}\n<section class="charts" aria-label="Charts">\n${charts.join('\n')}\n</section>`;
}
