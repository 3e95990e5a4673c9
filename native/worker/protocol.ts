// The messages between a job runner and its worker process, and the RunResult a job ends with.
// Plain JSON over the fork IPC channel; schemas/run-result.schema.json is the RunResult's contract.
import type { AdapterRecord } from '../model';

/** `serving`: a benchmark of a running OpenAI-compatible server (its `model` is the name the server serves). */
export type JobKind = 'quantize' | 'benchmark' | 'generate' | 'perplexity' | 'serving';
export const JOB_KINDS: readonly JobKind[] = ['quantize', 'benchmark', 'generate', 'perplexity', 'serving'];

export type JsonObject = { [key: string]: unknown };

export { THREADS_ENV, engineThreads } from '../model';

export interface Job {
  kind: JobKind;
  /** A local model folder (holding config.json), or a Hub id `org/name[@revision]` the worker resolves to its HF cache snapshot. */
  model: string;
  /** A quantization_config object (quantize, benchmark). */
  config?: JsonObject;
  /** Kind-specific options; `out` (a folder) is where a job that writes files puts them. */
  options: JsonObject;
}

/** What runs a quantize or benchmark job: the native engine (default), or the libraries of the user's Python (native/worker/python). */
export type BackendName = 'engine' | 'python';
export const BACKENDS: readonly BackendName[] = ['engine', 'python'];

/** The backend a run used; for `python`, the interpreter, the device it ran on and the versions of the libraries it imported. */
export interface BackendRecord {
  name: BackendName;
  interpreter?: string;
  device?: string;
  /** The GPUs torch saw on a CUDA run (a model larger than one spreads over them). */
  gpus?: string[];
  libraries?: Record<string, string>;
}

export type ErrorCode =
  | 'INVALID_JOB'
  | 'MODEL_NOT_FOUND'
  | 'NEEDS_TOKEN'
  /** A serving benchmark's server wants an API key that was not given for it (or refused the one given). */
  | 'NEEDS_API_KEY'
  | 'INVALID_MODEL'
  | 'INPUT_NOT_FOUND'
  | 'NOT_AVAILABLE'
  /** The job's predicted peak memory exceeds what the machine has available (native/worker/memoryCheck.ts). */
  | 'NOT_ENOUGH_MEMORY'
  | 'ENGINE_ERROR'
  | 'CANCELLED';

export interface JobErrorInfo {
  message: string;
  code: ErrorCode;
  /** The file, folder or option the error is about. */
  where?: string;
}

/** A benchmark row measures either one forward pass over a prompt or the decode steps of a generation. */
export type BenchmarkPhase = 'forward' | 'generate';

/** One line of a benchmark table (schemas/run-result.schema.json's `row` documents each field). */
export interface BenchmarkRow {
  /** The variant's label; the baseline (the job's model) comes first. */
  variant: string;
  phase: BenchmarkPhase;
  /** Prompt tokens per sequence (forward: the whole timed pass; generate: the prefill before the timed decode). */
  promptTokens: number;
  /** Tokens generated per sequence (0 for forward rows). */
  newTokens: number;
  quantization: string;
  bits: number | null;
  groupSize: number | null;
  actOrder: boolean | null;
  kernel: string;
  batch: number;
  loadSeconds: number;
  /** The median run's; per step (one token of each of the batch's sequences), which is per token only at batch 1. */
  perTokenLatencyMs: number;
  /** Fastest and slowest run (runs saved before repeats were recorded have none). */
  perTokenLatencyMsRange?: [number, number];
  throughputTokensPerSecond: number;
  /** Lowest and highest run. */
  throughputTokensPerSecondRange?: [number, number];
  /** Timed runs behind the figures, after one warm-up run. */
  runs?: number;
  /** The measuring process's peak resident memory; python backend on CUDA: torch's peak allocation on the GPUs. */
  peakMemoryBytes: number;
  /** Python backend on CUDA: the caching allocator's peak reservation on the GPUs. */
  reservedMemoryBytes?: number;
  perplexity: number | null;
  perplexityDelta: number | null;
}

/** Median, 90th and 99th percentile and mean of one latency over a concurrency level's requests, in ms. */
export interface LatencySummary {
  median: number;
  p90: number;
  p99: number;
  mean: number;
}

/** One concurrency level of a serving benchmark (schemas/run-result.schema.json's `servingLevel` documents each field). */
export interface ServingLevel {
  concurrency: number;
  /** Requests that streamed to their end, and those that failed. */
  completed: number;
  failed: number;
  /** The first failure's message, when any request failed. */
  firstError?: string;
  durationSeconds: number;
  requestsPerSecond: number;
  outputTokensPerSecond: number;
  /** Per completed request, as the server counted them (its usage), else output chunks. */
  meanPromptTokens: number | null;
  meanOutputTokens: number;
  timeToFirstTokenMs: LatencySummary;
  /** Per request: (last chunk − first chunk) / (output tokens − 1). */
  timePerOutputTokenMs: LatencySummary;
  /** Gaps between consecutive streamed chunks, all requests pooled. */
  interTokenLatencyMs: LatencySummary;
  requestLatencyMs: LatencySummary;
}

/** The server a serving benchmark measured. */
export interface EndpointRecord {
  url: string;
  /** The model name it served, as sent in each request. */
  model: string;
  /** What the server says it is: its `server` response header and the model's `owned_by`, when it sends them. */
  server?: string;
  /** How output tokens were counted: the server's usage figures, or one per streamed chunk. */
  tokenCount: 'usage' | 'chunks';
  /** Whether an API key was sent (never the key). */
  authenticated: boolean;
}

export interface LayerRecord {
  name: string;
  seconds: number;
  error: number;
  /** 'output': relative error of the layer's output on the calibration data; 'weight': of its weights. */
  errorKind: 'output' | 'weight';
  /** MoE layers under GPTQ and AWQ: the calibration tokens routed to each expert (index = expert). */
  expertTokens?: number[];
  /** The experts with linears quantized round-to-nearest for too few tokens (GPTQModel 7.7's fallback: GPTQ, an expert
   *  under 0.5% of calibration; AWQ, per scale group, so every expert when one got none). */
  fallbackExperts?: number[];
  /** GPTQ modules whose Hessian factorised only with more damping than damp_percent (GPTQModel 7.7's
   *  damp_auto_increment), with the damping used. */
  raisedDamping?: { module: string; dampPercent: number }[];
  /** signRound: the batch's mean squared output error at round-to-nearest (the first step) and at the step kept. */
  signRound?: { startLoss: number; bestLoss: number; bestIteration: number };
}

/** A mixed-precision job's choice (native/model/bitsAllocation.ts); the written config's `dynamic` holds it. */
export interface AllocationRecord {
  target: number;
  bitsPerWeight: number;
  baseBits: number;
  wideBits: number;
  /** Calibration windows measured, and the full-precision model's mean NLL on them. */
  samples: number;
  fpNll: number;
  seconds: number;
  /** Per decoder layer: KL divergence saved by the wide width (nats per token), bits per weight it costs, and whether it was widened. */
  layers: { layer: string; gain: number; cost: number; widened: boolean }[];
}

export interface RunMetrics {
  perplexity?: number;
  tokens?: number;
  tokensPerSecond?: number;
  prefillTokensPerSecond?: number;
  loadSeconds?: number;
  peakRssBytes?: number;
  [name: string]: number | undefined;
}

export interface RunResult {
  schemaVersion: 1;
  id: string;
  kind: JobKind;
  startedAt: string;
  finishedAt: string;
  durationSeconds: number;
  model: { ref: string; path?: string; architecture?: string; params?: number };
  config?: JsonObject;
  /** The job's options as it ran. */
  options?: JsonObject;
  environment: {
    engineVersion: string;
    threads: number;
    cpu: string;
    avx2: boolean;
    simd?: 'scalar' | 'avx2' | 'avx512';
    os: string;
    node: string;
  };
  metrics: RunMetrics;
  /** Quantize jobs: what quantized the model. */
  backend?: BackendRecord;
  rows?: BenchmarkRow[];
  /** Serving jobs: the server measured, and one entry per concurrency level in the order run. */
  endpoint?: EndpointRecord;
  serving?: ServingLevel[];
  /** Quantize jobs: each layer's time and reconstruction error, in order. */
  layers?: LayerRecord[];
  /** Quantize jobs with mixedPrecision: the layers widened and why. */
  allocation?: AllocationRecord;
  text?: string;
  output?: { folder: string; bytes: number };
  /** The PEFT LoRA adapter applied (generate, perplexity, benchmark) or merged before quantizing: its folder's name,
   *  never its path. */
  adapter?: AdapterRecord;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Structured numbers behind a progress message (quantize: the layer just finished), for panels that tabulate them. */
export interface ProgressDetail {
  layer?: string;
  seconds?: number;
  /** The layer's reconstruction error (see LayerReport in native/lib/quantize.ts for its definition). */
  error?: number;
}

/** A progress message's content, as the worker sends it and a runner hands it on. */
export interface WorkerProgress {
  phase: string;
  current: number;
  total: number;
  message?: string;
  etaSeconds?: number;
  /** Structured numbers behind the message (quantize: layer, seconds, reconstruction error). */
  detail?: ProgressDetail;
  /** How far the whole job is, 0..1, for jobs whose phases repeat (benchmark variants), where a phase alone does not say it. */
  overall?: number;
}

export type WorkerMessage =
  | ({ type: 'progress' } & WorkerProgress)
  | { type: 'token'; text: string }
  | { type: 'log'; level: LogLevel; text: string }
  | { type: 'result'; result: RunResult }
  | { type: 'error'; error: JobErrorInfo };

export type RunnerMessage = { type: 'run'; job: Job } | { type: 'cancel' };

/** The suffix of the temp folder an output is staged in: `<out>.tmp-<pid>`, renamed to `<out>` on success. */
export const STAGING_MARKER = '.tmp-';

/** The lock beside an output folder while a job writes it: `<out>.lock`, holding the job's pid. */
export const OUTPUT_LOCK_SUFFIX = '.lock';
