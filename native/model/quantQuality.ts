// The measured quality table (quantQuality.json): perplexity of each quantizer on the demo model, the one source
// that README.md's quality table and the advisor's quality predictions both read. Rows are measured by
// test/bench/quality.mjs; nothing here is estimated.
import table from './quantQuality.json';
import type { MixedPrecisionOptions } from './bitsAllocation';
import type { SignRoundOptions } from './signRound';
import type { JsonObject } from './types';

export interface QualityRow {
  /** The advisor's candidate id, e.g. "gptq-4bit-g128". */
  id: string;
  /** As the README's table names it. */
  label: string;
  bits: number;
  /** Stored bits per quantized weight on the demo model (codes, scales, zeros, g_idx: the estimate's bitsPerWeight,
   *  rounded to 0.01; test/unit/native/quantQuality.test.ts holds each to it); 16 for fp16. */
  bitsPerWeight: number;
  /** Which upstream loader takes the checkpoint (test/reference/checkpoint-load.test.mjs loads each kind). */
  loadsUpstream: string;
  /** The job file's quantization_config; absent for fp16 (nothing quantized). */
  config?: JsonObject;
  /** "rtn": round to nearest into the config's format (job file `algorithm`). */
  algorithm?: 'rtn';
  /** The job file's `mixedPrecision`: the layers widened are measured (bitsAllocation.ts); bitsPerWeight is what it reached. */
  mixedPrecision?: MixedPrecisionOptions;
  /** The job file's `signRound`: learned rounding in place of GPTQ's error feedback. */
  signRound?: SignRoundOptions;
  perplexity: number;
  quantizeSeconds: number | null;
  /** The upstream libraries' figures on the same model and calibration, as the README shows them. */
  upstream: string | null;
  /** A recipe measured for the demo model's own layout (e.g. one layer wider): not a candidate the advisor ranks. */
  modelSpecific?: string;
  /** Why the memory bandwidth does not bound this method's decode speed (its kernel is compute-bound): no bound is given. */
  notBandwidthBound?: string;
  /** Figures on real models from a named source: shown beside the measurement, never ranked on (other models, protocols). */
  published?: PublishedResult[];
}

export interface PublishedResult {
  model: string;
  metric: string;
  fp16: number;
  value: number;
  source: string;
}

export interface QualityTable {
  about: string;
  model: string;
  rows: QualityRow[];
}

export const QUALITY_TABLE: QualityTable = table as QualityTable;

/** The fp16 row's perplexity: the baseline every delta is taken against. */
export function baselinePerplexity(t: QualityTable = QUALITY_TABLE): number {
  const fp16 = t.rows.find((r) => r.id === 'fp16');
  if (!fp16) throw new Error('quantQuality.json: no fp16 row to take deltas against');
  return fp16.perplexity;
}

/** Perplexity increase over fp16, in percent (negative: measured below fp16). */
export function perplexityDeltaPercent(row: QualityRow, t: QualityTable = QUALITY_TABLE): number {
  const base = baselinePerplexity(t);
  return ((row.perplexity - base) / base) * 100;
}

/** 0.1 → "0.1 s", 82 → "82 s": a decimal below ten seconds, whole seconds above. */
function seconds(s: number | null): string {
  if (s === null) return '—';
  return s < 10 ? `${s.toFixed(1)} s` : `${Math.round(s)} s`;
}

/** The README's table, row for row. */
export function qualityTableMarkdown(t: QualityTable = QUALITY_TABLE): string {
  return [
    '| method | bits per weight | perplexity | quantize time | loads upstream in | upstream figures |',
    '| --- | --- | --- | --- | --- | --- |',
    ...t.rows.map(
      (r) =>
        `| ${r.label} | ${r.bitsPerWeight.toFixed(2)} | ${r.perplexity.toFixed(4)} | ${seconds(r.quantizeSeconds)} | ${r.loadsUpstream} | ` +
        `${r.upstream ?? '—'} |`,
    ),
  ].join('\n');
}
