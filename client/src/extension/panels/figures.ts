// What each scalar of a run measures, in which unit, and how it was measured: a perplexity depends on the
// text, its tokens and the window; a speed on the phase and the batch; a peak on the job it was taken over.
// Compare Runs sets two figures side by side only when their ids and their ways of measuring agree.
import * as path from 'path';
import type { RunResult } from '../../jobs';
import { inMiB } from '../../../../native/model';

export type Unit = 'perplexity' | 'bytes' | 'seconds' | 'tokensPerSecond' | 'count' | 'error' | 'plain';

/** One part of how a figure was measured, e.g. ['tokens', '4,096']. */
export type BasisPart = [what: string, value: string];

export interface Figure {
  /** The metric's name in the run file. */
  metric: string;
  /** The same id in every kind of run that measures the same quantity. */
  id: string;
  label: string;
  unit: Unit;
  value: number;
  basis: BasisPart[];
}

/** `perplexityBefore` → `perplexity before`: the label of a metric this module does not know. */
export function metricLabel(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();
}

const count = (n: number): string => Math.round(n).toLocaleString('en-US');
const optionsOf = (run: RunResult): Record<string, unknown> => (run.options ?? {}) as Record<string, unknown>;
const numberOr = (v: unknown, fallback: number | undefined): number | undefined => (typeof v === 'number' ? v : fallback);

/** The text, token count and window a perplexity figure of this run was taken over. */
export function evaluationBasis(run: RunResult): BasisPart[] {
  const o = optionsOf(run);
  const evaluate = (typeof o.evaluate === 'object' && o.evaluate !== null ? o.evaluate : {}) as Record<string, unknown>;
  const text = typeof o.text === 'string' ? path.basename(o.text) : 'WikiText-2 test';
  const tokens = run.kind === 'perplexity' ? run.metrics.tokens : run.metrics.evaluationTokens;
  // the worker's default window is 256 tokens for every kind of run
  const seq = run.kind === 'perplexity' ? numberOr(run.metrics.seq, numberOr(o.seq, 256)) : numberOr(evaluate.seq, 256);
  return [
    ['text', text],
    ['tokens', tokens === undefined ? 'unknown' : count(tokens)],
    ['window', seq === undefined ? 'unknown' : count(seq)],
  ];
}

/** Jobs other than benchmarks run one sequence at a time (batch 1). */
function speedBasis(phase: string): BasisPart[] {
  return [
    ['phase', phase],
    ['batch', '1'],
  ];
}

// a quantize job's sample is generated as a generate job generates, so their speeds compare
const SPEED_PHASE: Record<RunResult['kind'], string> = {
  generate: 'generation',
  quantize: 'generation',
  perplexity: 'perplexity evaluation',
  benchmark: 'benchmark',
  serving: 'serving benchmark',
};

interface Meaning {
  id?: string;
  label: string;
  unit: Unit;
  basis?: (run: RunResult) => BasisPart[];
}

/** Metrics whose name means one thing in every kind of run. */
const MEANINGS: Record<string, Meaning> = {
  perplexity: { label: 'Perplexity', unit: 'perplexity', basis: evaluationBasis },
  perplexityBefore: { label: 'Perplexity before quantizing', unit: 'perplexity', basis: evaluationBasis },
  perplexityAfter: { label: 'Perplexity after quantizing', unit: 'perplexity', basis: evaluationBasis },
  perplexityDelta: { label: 'Perplexity change from quantizing', unit: 'perplexity', basis: evaluationBasis },
  evaluationTokens: { label: 'Tokens evaluated', unit: 'count' },
  predictedTokens: { label: 'Tokens predicted', unit: 'count' },
  windows: { label: 'Windows', unit: 'count' },
  seq: { label: 'Window', unit: 'count' },
  promptTokens: { label: 'Prompt tokens', unit: 'count' },
  tokensPerSecond: { label: 'Speed', unit: 'tokensPerSecond', basis: (run) => speedBasis(SPEED_PHASE[run.kind]) },
  prefillTokensPerSecond: { label: 'Prefill speed', unit: 'tokensPerSecond', basis: () => speedBasis('prefill') },
  loadSeconds: { label: 'Load time', unit: 'seconds' },
  peakRssBytes: { label: 'Peak memory', unit: 'bytes', basis: (run) => [['over', `the whole ${run.kind} job`]] },
  inputWeightBytes: { label: 'Source weights', unit: 'bytes' },
  quantizeSeconds: { label: 'Quantize time', unit: 'seconds' },
  quantizeCpuSeconds: { label: 'Quantize CPU time (all threads)', unit: 'seconds' },
  layers: { label: 'Layers quantized', unit: 'count' },
  meanLayerError: {
    label: 'Mean reconstruction error',
    unit: 'error',
    basis: (run) => [['error of', run.layers?.[0]?.errorKind ?? 'unknown']],
  },
  variants: { label: 'Variants', unit: 'count' },
};

/** Names that mean different things by kind: a perplexity run's tokens are evaluated, a generate run's generated. */
function meaningOf(run: RunResult, name: string): Meaning {
  if (name === 'tokens')
    return run.kind === 'perplexity'
      ? { id: 'evaluationTokens', ...MEANINGS.evaluationTokens }
      : { id: 'generatedTokens', label: 'Tokens generated', unit: 'count' };
  // a metric added later is compared only between runs of the same kind
  return MEANINGS[name] ?? { label: metricLabel(name), unit: 'plain', basis: (r) => [['job', r.kind]] };
}

export function runFigures(run: RunResult): Figure[] {
  return Object.entries(run.metrics).flatMap(([name, value]) => {
    if (typeof value !== 'number' || !Number.isFinite(value)) return [];
    const meaning = meaningOf(run, name);
    return [{ metric: name, id: meaning.id ?? name, label: meaning.label, unit: meaning.unit, value, basis: meaning.basis?.(run) ?? [] }];
  });
}

/** Why two figures with one id were not measured the same way ("tokens: 4,096 in A, 32,768 in B"), or undefined. */
export function basisDifference(a: readonly BasisPart[], b: readonly BasisPart[]): string | undefined {
  const differing = a.flatMap(([what, va]) => {
    const vb = b.find(([w]) => w === what)?.[1] ?? 'unknown';
    return va === vb ? [] : [`${what}: ${va} in A, ${vb} in B`];
  });
  return differing.length === 0 ? undefined : differing.join('; ');
}

function plain(value: number): string {
  if (Number.isInteger(value)) return count(value);
  const magnitude = Math.abs(value);
  return magnitude !== 0 && (magnitude < 1e-3 || magnitude >= 1e6) ? value.toExponential(3) : String(Number(value.toPrecision(4)));
}

/** A figure in its unit: "462.8 MiB", "1,500.4 tokens/s", "21 ms", "57.778". */
export function formatFigure(value: number, unit: Unit, signed = false): string {
  const sign = signed && value > 0 ? '+' : '';
  const text = ((): string => {
    switch (unit) {
      case 'perplexity':
        return value.toFixed(3);
      case 'bytes':
        return `${inMiB(value)} MiB`;
      case 'seconds':
        return Math.abs(value) < 1 ? `${plain(Number((value * 1000).toPrecision(3)))} ms` : `${value.toFixed(2)} s`;
      case 'tokensPerSecond':
        return `${value.toLocaleString('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 })} tokens/s`;
      case 'count':
        return count(value);
      case 'error':
        return value.toExponential(3);
      case 'plain':
        return plain(value);
    }
  })();
  return `${sign}${text}`;
}
