// The advisor: every quantization in the measured quality table, sized for one model and one memory budget, and
// ranked. Each prediction says what it rests on:
//  - memory: the estimate (estimate.ts) of the model's real tensor shapes under the candidate's config, batch 1 at
//    the given context: weights + KV cache + prefill activations + runtime overhead;
//  - quality: the perplexity the engine measured on the demo model (quantQuality.json), as a change from fp16 —
//    a 5M-parameter model, so it orders the methods rather than predicting a large model's perplexity;
//  - speed: decode at batch 1 reads every weight and the KV cache once per token, so the device's memory
//    bandwidth over those bytes bounds tokens/s (a mixture of experts reads only its active experts: faster);
//  - deployment (with a target): the kernel the target picks for the config (deployTargets.ts).
// Rank: what fits and the target serves, then what fits but the target refuses, then what does not fit; within
// the first two, better measured quality first, quality within QUALITY_TIE_PERCENT of each other counting as a tie that
// the speed bound (then the smaller peak) breaks; what does not fit, the smallest peak first.
import type { DeploymentTarget, KernelChoice } from './deployTargets';
import { TARGET_TABLES } from './deployTargets';
import { deploySettingsOf } from './deploySettings';
import type { Result } from './errors';
import { ok } from './errors';
import type { MemoryEstimate } from './estimate';
import { estimateWithSettings } from './estimate';
import { QUALITY_TABLE, perplexityDeltaPercent } from './quantQuality';
import type { QualityRow, QualityTable } from './quantQuality';
import { quantSettingsOf } from './quantSettings';
import type { QuantSettings } from './quantSettings';
import type { ResolvedModel } from './types';
import { humanBytes } from './units';

/** Perplexity changes closer than this (percent of fp16's) rank as equal: the demo model cannot tell them apart. */
export const QUALITY_TIE_PERCENT = 0.1;

export interface AdviceRequest {
  budgetBytes: number;
  /** "NVIDIA L4 (24 GB)", "6.0 GiB budget", … */
  budgetLabel: string;
  bandwidthBytesPerSecond?: number;
  target?: DeploymentTarget;
  /** Context length the memory and speed are sized for (default 2048). */
  seq?: number;
}

export interface Advice {
  id: string;
  label: string;
  bits: number;
  row: QualityRow;
  estimate: MemoryEstimate;
  fits: boolean;
  /** Perplexity change over fp16 on the demo model, percent. */
  perplexityDeltaPercent: number;
  /** Decode tokens/s upper bound; undefined when the bandwidth is unknown. */
  tokensPerSecond?: number;
  /** The target's kernel for this config; undefined without a target or when its table has no rule for the method. */
  kernel?: KernelChoice;
  /** 1-based. */
  rank: number;
  /** What each prediction rests on, one line each. */
  basis: { memory: string; quality: string; speed: string; deployment?: string };
  /** Why this row sits where it does against its neighbour above. */
  why: string;
}

export const DEFAULT_ADVICE_SEQ = 2048;

const settingsOf = (row: QualityRow): Result<QuantSettings> =>
  row.config ? quantSettingsOf(row.config, `quantQuality.json → ${row.id}`) : ok({ method: 'none' });

function kernelOf(row: QualityRow, target: DeploymentTarget | undefined): KernelChoice | undefined {
  if (!target || !row.config) return undefined;
  const deploy = deploySettingsOf(row.config);
  return deploy ? TARGET_TABLES[target].choose(deploy) : undefined;
}

const tier = (a: Advice): number => (!a.fits ? 2 : a.kernel?.path === 'refused' ? 1 : 0);
const qualityBand = (a: Advice): number => Math.round(a.perplexityDeltaPercent / QUALITY_TIE_PERCENT);
/** "+0.71", "−0.42", and "0.00" for what rounds to zero at `digits`. */
export function signedFigure(x: number, digits = 2): string {
  const text = Math.abs(x).toFixed(digits);
  return Number(text) === 0 ? text : `${x > 0 ? '+' : '−'}${text}`;
}

function compare(a: Advice, b: Advice): number {
  if (tier(a) !== tier(b)) return tier(a) - tier(b);
  // what does not fit: the closest to fitting first
  if (tier(a) === 2) return a.estimate.peakBytes - b.estimate.peakBytes || a.id.localeCompare(b.id);
  return (
    qualityBand(a) - qualityBand(b) ||
    (b.tokensPerSecond ?? 0) - (a.tokensPerSecond ?? 0) ||
    a.estimate.peakBytes - b.estimate.peakBytes ||
    a.id.localeCompare(b.id)
  );
}

function whyAgainst(a: Advice, above: Advice | undefined): string {
  if (!above) return 'first: ' + (tier(a) === 0 ? 'fits and has the best measured quality' : 'nothing fits; closest');
  if (tier(a) !== tier(above)) return tier(a) === 1 ? 'fits, but the target refuses it' : 'does not fit in the budget';
  if (tier(a) === 2) return `does not fit, larger peak than #${above.rank}`;
  if (qualityBand(a) !== qualityBand(above)) return `lower measured quality than #${above.rank}`;
  if (a.tokensPerSecond !== above.tokensPerSecond) return `quality tie with #${above.rank} (within ${QUALITY_TIE_PERCENT} %), slower`;
  if (a.estimate.peakBytes !== above.estimate.peakBytes) return `quality and speed tie with #${above.rank}, larger peak`;
  return `quality, speed and peak tie with #${above.rank}`;
}

/** Every candidate of the quality table (not the demo model's own recipes) for one model and budget, ranked. */
export function advise(model: ResolvedModel, request: AdviceRequest, table: QualityTable = QUALITY_TABLE): Result<Advice[]> {
  const seq = request.seq ?? DEFAULT_ADVICE_SEQ;
  const rows: Advice[] = [];
  for (const row of table.rows.filter((r) => !r.modelSpecific)) {
    const settings = settingsOf(row);
    if (!settings.ok) return settings;
    const estimated = estimateWithSettings(model, settings.value, { batch: 1, seq });
    if (!estimated.ok) return estimated;
    const estimate = estimated.value;
    const delta = perplexityDeltaPercent(row, table);
    const readPerToken = estimate.weightsBytes + estimate.kvCacheBytes;
    const bandwidth = row.notBandwidthBound ? undefined : request.bandwidthBytesPerSecond;
    const kernel = kernelOf(row, request.target);
    const fits = estimate.peakBytes <= request.budgetBytes;
    rows.push({
      id: row.id,
      label: row.label,
      bits: row.bits,
      row,
      estimate,
      fits,
      perplexityDeltaPercent: delta,
      ...(bandwidth === undefined ? {} : { tokensPerSecond: bandwidth / readPerToken }),
      ...(kernel ? { kernel } : {}),
      rank: 0,
      basis: {
        memory:
          `estimate at the model's tensor shapes, batch 1, ${seq} tokens: weights ${humanBytes(estimate.weightsBytes)} + KV cache ` +
          `${humanBytes(estimate.kvCacheBytes)} + activations ${humanBytes(estimate.activationBytes)} + overhead ` +
          `${humanBytes(estimate.overheadBytes)} = ${humanBytes(estimate.peakBytes)} against ${humanBytes(request.budgetBytes)} (${request.budgetLabel})`,
        quality:
          `perplexity ${row.perplexity.toFixed(4)} measured on the demo model (${table.model}), ${signedFigure(delta)} % against fp16` +
          (row.upstream ? `; upstream: ${row.upstream}` : '') +
          (row.published ?? [])
            .map(
              (p) =>
                `; published: ${p.model}, ${p.metric} ${p.fp16} → ${p.value} (${signedFigure(((p.value - p.fp16) / p.fp16) * 100)} %), ${p.source}`,
            )
            .join(''),
        speed: row.notBandwidthBound
          ? `no bound: ${row.notBandwidthBound}`
          : bandwidth === undefined
            ? 'unknown: no memory bandwidth for this device'
            : `upper bound: ${(bandwidth / 1e9).toFixed(0)} GB/s ÷ ${humanBytes(readPerToken)} read per token (weights + KV cache), batch 1`,
        ...(request.target
          ? {
              deployment: kernel
                ? `${request.target} (${TARGET_TABLES[request.target].release}): ${kernel.kernel}, ${kernel.path}${kernel.why ? ` (${kernel.why})` : ''}`
                : `${request.target}: ${row.config ? 'no rule for this method in its table' : 'unquantized, served as stored'}`,
            }
          : {}),
      },
      why: '',
    });
  }
  rows.sort(compare);
  rows.forEach((r, i) => {
    r.rank = i + 1;
    r.why = whyAgainst(r, rows[i - 1]);
  });
  return ok(rows);
}
