// The Quantize panel's calibration coverage of Mixture-of-Experts layers: the tokens routed to each expert, so an
// expert calibration never reached (the most common MoE failure) shows, with the experts quantized round-to-nearest.
import type { RunResult } from '../../jobs';
import { escapeHtml } from './page';

export function expertTokenTable(run: RunResult): string {
  const layers = (run.layers ?? []).filter((l) => l.expertTokens !== undefined && l.expertTokens.length > 0);
  if (layers.length === 0) return '';
  const experts = Math.max(...layers.map((l) => l.expertTokens!.length));
  const head = Array.from({ length: experts }, (_, e) => `<th scope="col" class="number">${e}</th>`).join('');
  const rows = layers.map((l) => {
    const fallback = new Set(l.fallbackExperts ?? []);
    const cells = l.expertTokens!.map((n, e) => {
      const tone = n === 0 || fallback.has(e) ? ' worse' : '';
      return `<td class="number${tone}" data-testid="expert-${escapeHtml(l.name)}-${e}">${n}</td>`;
    });
    const rtn = [...fallback].sort((a, b) => a - b).join(', ');
    return `<tr><th scope="row">${escapeHtml(l.name)}</th>${cells.join('')}<td>${rtn === '' ? 'none' : escapeHtml(rtn)}</td></tr>`;
  });
  const never = layers.reduce((n, l) => n + l.expertTokens!.filter((t) => t === 0).length, 0);
  const caption =
    never === 0 ? 'Calibration tokens per expert' : `Calibration tokens per expert: ${never} expert${never === 1 ? '' : 's'} never reached`;
  return `<table data-testid="expert-tokens">
<caption>${escapeHtml(caption)} (too few tokens: quantized round-to-nearest, as GPTQModel 7.7 falls back; under AWQ every expert when one got none)</caption>
<thead><tr><th scope="col">Layer</th>${head}<th scope="col">Round-to-nearest</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>`;
}
