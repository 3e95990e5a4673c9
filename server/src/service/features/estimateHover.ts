// Hover on the quantization config's key / first line / call: the memory estimate per module type beside
// the unquantized figure, then the same model under each compared method; a job file's as the CPU engine
// names its lines; what the config did not say and the estimate assumed; or why there is no estimate.
import type { MarkupContent } from 'vscode-languageserver-types';
import type { SiteEstimate, SiteEstimateResult } from '../modelAware/estimateFor';
import { contextOf, hasEstimate } from '../modelAware/estimateFor';
import { humanBytes, humanSeconds, quantizeJobSummary } from '../../../../native/model';

const NOT_WEIGHTS = new Set(['KV cache', 'activations (prefill)', 'runtime overhead']);
const KEPT = new Set(['embeddings', 'lm_head', 'norms', 'biases', 'other']);

function row(cells: string[]): string {
  return `| ${cells.join(' | ')} |`;
}

export function estimateMarkdown(result: SiteEstimateResult): MarkupContent {
  if (!hasEstimate(result)) return { kind: 'markdown', value: `**No memory estimate** for \`${result.model}\`: ${result.reason}` };
  return {
    kind: 'markdown',
    value: [
      ...headline(result),
      ...(result.target === 'cpu' ? cpuLines(result) : gpuLines(result)),
      ...quantizeJobLines(result),
      ...methodLines(result),
    ].join('\n'),
  };
}

function headline(e: SiteEstimate): string[] {
  const where = e.target === 'cpu' ? ' on the CPU engine (peak RSS of the job worker)' : '';
  const lines = [`**Memory estimate: ${e.estimate.method}** for \`${e.model}\`${where} @ batch ${e.batch}, ${contextOf(e)} context`];
  if (e.estimate.bitsPerWeight !== undefined)
    lines.push('', `Quantized Linears: ${e.estimate.bitsPerWeight.toFixed(2)} bits per weight (codes, scales, zeros and g_idx together).`);
  if (e.assumed.length > 0) lines.push('', `Assumed: ${e.assumed.join('; ')}.`);
  return [...lines, ''];
}

/** The CPU engine's lines as it names them, beside the model as stored on the same engine. */
function cpuLines(e: SiteEstimate): string[] {
  const stored = new Map(e.asStored.breakdown.map((l) => [l.label, l.bytes]));
  return [
    row(['', 'count', 'this config', 'as stored']),
    row(['---', '---:', '---:', '---:']),
    ...e.estimate.breakdown.map((l) =>
      row([l.label, String(l.count), humanBytes(l.bytes), stored.has(l.label) ? humanBytes(stored.get(l.label)!) : '']),
    ),
    row(['**peak**', '', `**${humanBytes(e.estimate.peakBytes)}**`, humanBytes(e.asStored.peakBytes)]),
  ];
}

/** A job file's own run: the quantize job's peak RSS by part, and its time by phase on this machine. */
function quantizeJobLines(e: SiteEstimate): string[] {
  const q = e.quantizeJob;
  if (!q) return [];
  const o = q.options;
  const calibration = o.algorithm === 'gptq' || o.algorithm === 'awq' ? `, ${o.samples} × ${o.seqLen} calibration tokens` : '';
  const lines = [
    '',
    `**Quantizing (${o.algorithm}${calibration}): ${quantizeJobSummary(q)}**`,
    '',
    row(['peak RSS of the quantize job', 'bytes']),
    row(['---', '---:']),
    ...q.memory.breakdown.map((l) => row([l.label, humanBytes(l.bytes)])),
    row(['**peak**', `**${humanBytes(q.memory.peakBytes)}**`]),
  ];
  if (!q.time.ok) return lines;
  return [
    ...lines,
    '',
    row([`time on ${q.time.value.threads} engine thread${q.time.value.threads === 1 ? '' : 's'}`, 'seconds']),
    row(['---', '---:']),
    ...q.time.value.phases.map((p) => row([p.label, p.seconds.toFixed(1)])),
    row(['**total**', `**${humanSeconds(q.time.value.seconds)}**`]),
  ];
}

function methodLines(e: SiteEstimate): string[] {
  return [
    '',
    '**Across methods**',
    '',
    row(['method', 'weights', 'peak']),
    row(['---', '---:', '---:']),
    ...e.methods.map((m) => row([m.label, humanBytes(m.estimate.weightsBytes), humanBytes(m.estimate.peakBytes)])),
  ];
}

function gpuLines(e: SiteEstimate): string[] {
  const stored = new Map(e.asStored.breakdown.map((l) => [l.label, l.bytes]));
  const weightLines = e.estimate.breakdown.filter((l) => !NOT_WEIGHTS.has(l.label));
  const quantized = weightLines.filter((l) => !KEPT.has(l.label));
  const kept = weightLines.filter((l) => KEPT.has(l.label));
  const asStored = (label: string): string => {
    const bytes = stored.get(label);
    return bytes === undefined ? '' : humanBytes(bytes);
  };
  return [
    row(['', 'modules', 'this config', 'as stored']),
    row(['---', '---:', '---:', '---:']),
    ...quantized.map((l) => row([`${l.label} (quantized)`, String(l.count), humanBytes(l.bytes), asStored(l.label)])),
    ...kept.map((l) => row([`${l.label} (kept)`, String(l.count), humanBytes(l.bytes), asStored(l.label)])),
    row(['**weights**', '', `**${humanBytes(e.estimate.weightsBytes)}**`, humanBytes(e.asStored.weightsBytes)]),
    row(['KV cache', '', humanBytes(e.estimate.kvCacheBytes), humanBytes(e.asStored.kvCacheBytes)]),
    row(['activations (prefill)', '', humanBytes(e.estimate.activationBytes), humanBytes(e.asStored.activationBytes)]),
    row(['runtime overhead', '', humanBytes(e.estimate.overheadBytes), humanBytes(e.asStored.overheadBytes)]),
    row(['**peak**', '', `**${humanBytes(e.estimate.peakBytes)}**`, humanBytes(e.asStored.peakBytes)]),
  ];
}
