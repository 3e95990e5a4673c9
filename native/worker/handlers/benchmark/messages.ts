// What the benchmark job and the child process that measures one variant say to each other. The child is
// this worker forked again, so one variant's peak memory is its own process's and never another's.
import type { KvCacheType, LmHeadType } from '../../../lib';
import type { BenchmarkPhase, JobErrorInfo, WorkerMessage } from '../../protocol';

export interface EvaluatePlan {
  /** Perplexity over the first `maxTokens` ids of the token pool, in windows of `seq`. */
  maxTokens: number;
  seq: number;
}

export interface MeasureRequest {
  label: string;
  folder: string;
  /** WikiText-2 test ids: sequence b of a batch reads pool[b·n, (b+1)·n), so each sequence has its own text. */
  pool: number[];
  batchSizes: number[];
  promptLength: number;
  generate: { promptTokens: number; newTokens: number[] };
  evaluate: EvaluatePlan | null;
  /** Timed runs per figure; the fastest counts. */
  repeat: number;
  kvCache: KvCacheType;
  lmHead: LmHeadType;
  /** A PEFT LoRA adapter folder applied over every variant's linears. */
  adapter?: string;
  /** Python backend: GPTQModel's kernel for GPTQ and AWQ checkpoints (its BACKEND value). */
  kernel?: string;
}

export interface PhaseMeasurement {
  batch: number;
  phase: BenchmarkPhase;
  promptTokens: number;
  newTokens: number;
  /** Seconds of the timed part (the whole forward pass, or the decode steps after the prefill): the median of the runs. */
  seconds: number;
  /** The fastest and the slowest run. */
  secondsMin: number;
  secondsMax: number;
  /** Timed runs (after the warm-up). */
  runs: number;
  /** Tokens per sequence the timed part produced or consumed (forward: promptTokens; generate: the decode steps). */
  timedTokens: number;
  /** Peak resident memory of the measuring process during this phase (model loaded); on the python backend on
   *  CUDA, torch's peak allocation summed over the GPUs used. */
  peakMemoryBytes: number;
  /** Python backend on CUDA: the caching allocator's peak reservation (what the process holds on the GPUs). */
  reservedMemoryBytes?: number;
}

export type Timing = Pick<PhaseMeasurement, 'seconds' | 'secondsMin' | 'secondsMax' | 'runs'>;

/** The median of the runs (the mean of the middle two for an even count), the fastest and the slowest. */
export function timingOf(runs: readonly number[]): Timing {
  if (runs.length === 0) throw new Error('timingOf needs at least one run');
  const sorted = [...runs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { seconds: median, secondsMin: sorted[0]!, secondsMax: sorted[sorted.length - 1]!, runs: sorted.length };
}

export interface MeasureReport {
  /** Opening the folder until the first logits of a one-token forward pass (weights mapped and paged in). */
  loadSeconds: number;
  kernel: string;
  phases: PhaseMeasurement[];
  perplexity: number | null;
}

export type MeasureMessage = { type: 'measure'; request: MeasureRequest };

export type MeasureChildMessage =
  | Extract<WorkerMessage, { type: 'progress' } | { type: 'log' }>
  | { type: 'measured'; report: MeasureReport }
  | { type: 'error'; error: JobErrorInfo };

export function isMeasureMessage(message: unknown): message is MeasureMessage {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === 'measure';
}
