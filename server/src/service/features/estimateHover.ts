// Hover on the quantization config's key / first line / call: the memory estimate per module type beside
// the unquantized figure, then the same model under each compared method.
import type { MarkupContent } from 'vscode-languageserver-types';
import type { SiteEstimate } from '../modelAware/estimateFor';
import { contextLabel, humanBytes } from '../../../../native/model';

const NOT_WEIGHTS = new Set(['KV cache', 'activations (prefill)', 'runtime overhead']);
const KEPT = new Set(['embeddings', 'lm_head', 'norms', 'biases', 'other']);

function row(cells: string[]): string {
  return `| ${cells.join(' | ')} |`;
}

export function estimateMarkdown(e: SiteEstimate): MarkupContent {
  const stored = new Map(e.asStored.breakdown.map((l) => [l.label, l.bytes]));
  const weightLines = e.estimate.breakdown.filter((l) => !NOT_WEIGHTS.has(l.label));
  const quantized = weightLines.filter((l) => !KEPT.has(l.label));
  const kept = weightLines.filter((l) => KEPT.has(l.label));
  const asStored = (label: string): string => {
    const bytes = stored.get(label);
    return bytes === undefined ? '' : humanBytes(bytes);
  };
  const lines = [
    `**Memory estimate: ${e.estimate.method}** for \`${e.model}\` @ batch ${e.batch}, ${contextLabel(e.seq)} context`,
    '',
    row(['', 'modules', 'this config', 'as stored']),
    row(['---', '---:', '---:', '---:']),
    ...quantized.map((l) => row([`${l.label} (quantized)`, String(l.count), humanBytes(l.bytes), asStored(l.label)])),
    ...kept.map((l) => row([`${l.label} (kept)`, String(l.count), humanBytes(l.bytes), asStored(l.label)])),
    row(['**weights**', '', `**${humanBytes(e.estimate.weightsBytes)}**`, humanBytes(e.asStored.weightsBytes)]),
    row(['KV cache', '', humanBytes(e.estimate.kvCacheBytes), humanBytes(e.asStored.kvCacheBytes)]),
    row(['activations (prefill)', '', humanBytes(e.estimate.activationBytes), humanBytes(e.asStored.activationBytes)]),
    row(['runtime overhead', '', humanBytes(e.estimate.overheadBytes), humanBytes(e.asStored.overheadBytes)]),
    row(['**peak**', '', `**${humanBytes(e.estimate.peakBytes)}**`, humanBytes(e.asStored.peakBytes)]),
    '',
    '**Across methods**',
    '',
    row(['method', 'weights', 'peak']),
    row(['---', '---:', '---:']),
    ...e.methods.map((m) => row([m.label, humanBytes(m.estimate.weightsBytes), humanBytes(m.estimate.peakBytes)])),
  ];
  return { kind: 'markdown', value: lines.join('\n') };
}
