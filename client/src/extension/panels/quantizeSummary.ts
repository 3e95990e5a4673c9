// The rows of the Quantize result panel, from a quantize RunResult: a stable id per row (the panel's cells
// carry it, so tests and readers can find a value), a label and the formatted value. No `vscode` import.
import { humanBytes } from '../../../../native/model';
import { backendLabel, type RunResult } from '../../jobs';

export interface SummaryRow {
  id: string;
  label: string;
  value: string;
  /** 'worse' or 'better' colours the value (perplexity delta). */
  tone?: 'worse' | 'better';
}

const fixed = (v: number | undefined, digits: number): string => (v === undefined ? 'not measured' : v.toFixed(digits));

export function quantizeSummary(result: RunResult): SummaryRow[] {
  const m = result.metrics;
  const rows: SummaryRow[] = [
    { id: 'model', label: 'Model', value: result.model.path ?? result.model.ref },
    { id: 'method', label: 'Method', value: methodLabel(result.config) },
    ...(result.backend ? [{ id: 'backend', label: 'Backend', value: backendLabel(result.backend) }] : []),
    { id: 'output-folder', label: 'Output folder', value: result.output?.folder ?? 'none' },
    ...(m.inputWeightBytes === undefined ? [] : [{ id: 'input-size', label: 'Weights before', value: humanBytes(m.inputWeightBytes, 2) }]),
    {
      id: 'output-size',
      label: m.inputWeightBytes === undefined ? 'Size' : 'Size after',
      value: result.output ? humanBytes(result.output.bytes, 2) : 'none',
    },
    ...(m.inputWeightBytes && result.output
      ? [{ id: 'size-ratio', label: 'Compression', value: `${(m.inputWeightBytes / result.output.bytes).toFixed(2)}× smaller` }]
      : []),
    {
      id: 'quantize-seconds',
      label: 'Quantize time',
      value: m.quantizeSeconds === undefined ? 'not measured' : `${m.quantizeSeconds.toFixed(1)} s`,
    },
    { id: 'layers', label: 'Layers', value: m.layers === undefined ? 'not measured' : String(m.layers) },
    {
      id: 'mean-layer-error',
      label: 'Mean reconstruction error',
      value: m.meanLayerError === undefined ? 'not measured' : m.meanLayerError.toExponential(3),
    },
    { id: 'ppl-before', label: 'Perplexity before', value: fixed(m.perplexityBefore, 4) },
    { id: 'ppl-after', label: 'Perplexity after', value: fixed(m.perplexityAfter, 4) },
  ];
  const delta = m.perplexityDelta;
  rows.push({
    id: 'ppl-delta',
    label: 'Perplexity delta',
    value:
      delta === undefined
        ? 'not measured'
        : `${delta >= 0 ? '+' : ''}${delta.toFixed(4)}${m.perplexityBefore ? ` (${delta >= 0 ? '+' : ''}${((100 * delta) / m.perplexityBefore).toFixed(2)}%)` : ''}`,
    ...(delta === undefined ? {} : { tone: delta > 0 ? 'worse' : 'better' }),
  });
  if (m.evaluationTokens !== undefined)
    rows.push({ id: 'evaluation-tokens', label: 'Evaluation tokens', value: String(m.evaluationTokens) });
  rows.push({ id: 'duration', label: 'Total time', value: `${result.durationSeconds.toFixed(1)} s` });
  return rows;
}

function methodLabel(config: RunResult['config']): string {
  if (!config) return 'unknown';
  const parts = [String(config.quant_method ?? 'unknown')];
  if (typeof config.bits === 'number') parts.push(`${config.bits}-bit`);
  if (typeof config.group_size === 'number') parts.push(`group ${config.group_size}`);
  return parts.join(', ');
}
