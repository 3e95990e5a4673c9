// The Perplexity panel's summary: the figure and how it was measured.
import type { RunResult } from '../../jobs';
import { escapeHtml } from './page';
import { DASH, fixedOr } from './format';

export function perplexityBody(run: RunResult): string {
  const m = run.metrics;
  const count = (v: number | undefined): string => (v === undefined ? DASH : String(v));
  const rows: Array<[string, string, string]> = [
    ['perplexity', 'Perplexity', fixedOr(m.perplexity, 4)],
    ['tokens', 'Tokens evaluated', count(m.tokens)],
    ['seq', 'Window (tokens)', count(m.seq)],
    ['windows', 'Windows', count(m.windows)],
    ['tokens-per-second', 'Evaluation speed', m.tokensPerSecond === undefined ? DASH : `${m.tokensPerSecond.toFixed(1)} tokens/s`],
    ['load-seconds', 'Load time', m.loadSeconds === undefined ? DASH : `${m.loadSeconds.toFixed(2)} s`],
  ];
  const body = rows.map(
    ([id, label, value]) => `<tr><th scope="row">${label}</th><td id="${id}" class="number">${escapeHtml(value)}</td></tr>`,
  );
  return `<table data-testid="perplexity-summary">\n<caption>Perplexity of ${escapeHtml(run.model.ref)}</caption>\n<tbody>\n${body.join('\n')}\n</tbody>\n</table>`;
}
