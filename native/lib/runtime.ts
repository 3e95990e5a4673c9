// Runs a decoder-only model folder on the native engine: logits, perplexity windows, token generation, and
// batched prefill / greedy generation for benchmarks.
// Every call is async (the work runs on an engine thread); errors reject with the engine's message.
import { SimdLevel, loadAddon } from './addon';
import { KvCacheType, LmHeadType, RuntimeConfig, readRuntimeConfig } from '../model';
import { engineAdapter, LoraAdapter, LoraModulePlan, readLoraAdapter } from './loraAdapter';

export interface SamplingOptions {
  /** 0 (default) = greedy. */
  temperature?: number;
  /** 0 (default) = off. */
  topK?: number;
  /** 1 (default) = off. */
  topP?: number;
  /** Same seed, same options, same prompt → same tokens. */
  seed?: number;
}

export interface GenerateIdsOptions extends SamplingOptions {
  maxTokens?: number;
  /** Ids that end generation; defaults to the model's eos_token_id. */
  stopIds?: number[];
  signal?: AbortSignal;
}

export type StopReason = 'eos' | 'maxTokens' | 'cancelled' | 'contextFull';

export interface GenerateIdsResult {
  tokens: number[];
  stopReason: StopReason;
  promptTokens: number;
  prefillSeconds: number;
  decodeSeconds: number;
}

export interface WindowNll {
  /** Summed negative log-likelihood (nats) of every predicted token. */
  nll: number;
  /** Predicted tokens (ids.length − 1). */
  tokens: number;
  windows: number;
}

export interface BatchForwardResult {
  /** Each sequence's last-position logits, [batch × vocabSize] row-major. */
  logits: Float32Array;
  /** Wall time of the batched forward. */
  seconds: number;
}

export interface BatchGenerateResult {
  /** [batch × newTokens] row-major: sequence b's tokens at b·newTokens … */
  tokens: Int32Array;
  /** The batched prompt pass. */
  prefillSeconds: number;
  /** Every step after it (newTokens − 1 batched forwards). */
  decodeSeconds: number;
}

declare const handleBrand: unique symbol;
type Handle = { readonly [handleBrand]: 'model' };

/** The addon's runtime and kernel functions (native/src/bindings/runtime_binding.cc, kernels_binding.cc);
 *  part of the Addon interface in addon.ts. */
export interface RuntimeAddon {
  runtimeOpen(folder: string, config: RuntimeConfig & OpenOptions, adapter?: { file: string; modules: LoraModulePlan[] }): Handle;
  runtimeLogits(handle: Handle, ids: Int32Array): Promise<Float32Array>;
  runtimePerplexity(
    handle: Handle,
    ids: Int32Array,
    seq: number,
    onProgress: ((done: number, total: number) => void) | undefined,
    cancel: Int32Array | undefined,
  ): Promise<WindowNll>;
  runtimeGenerate(
    handle: Handle,
    prompt: Int32Array,
    options: { maxTokens: number; temperature: number; topK: number; topP: number; seed: number; stopIds: Int32Array },
    cancel: Int32Array,
    onToken: (id: number) => void,
  ): Promise<GenerateIdsResult>;
  runtimeForwardBatch(handle: Handle, ids: Int32Array, batch: number, cancel: Int32Array): Promise<BatchForwardResult>;
  runtimeGenerateBatch(
    handle: Handle,
    prompts: Int32Array,
    batch: number,
    newTokens: number,
    cancel: Int32Array,
    onStep: ((done: number) => void) | undefined,
  ): Promise<BatchGenerateResult>;
  kernelsMatMul(
    x: Float32Array,
    m: number,
    w: Float32Array | Uint16Array,
    dtype: 'F32' | 'F16' | 'BF16',
    n: number,
    k: number,
    bias: Float32Array | null,
    reference: boolean,
  ): Float32Array;
  kernelsMatMulTransposedA(a: Float32Array, lda: number, m: number, b: Float32Array, ldb: number, n: number, k: number): Float32Array;
  kernelsAttention(
    q: Float32Array,
    m: number,
    pos0: number,
    kCache: Float32Array | Uint16Array,
    vCache: Float32Array | Uint16Array,
    shape: { heads: number; kvHeads: number; headDim: number; capacity: number; window?: number },
    scale: number,
    reference: boolean,
  ): Float32Array;
  kernelsSoftmax(x: Float32Array, reference: boolean): Float32Array;
  kernelsNll(logits: Float32Array, target: number, reference: boolean): number;
  kernelsMachinePeak(seconds: number): { gflops: number; memcpyGBs: number; threads: number; avx2: boolean; simd: SimdLevel };
  /** The CPU's best SIMD level, the one kernels use now, and every level this CPU can run (lowest first). */
  kernelsSimd(): { cpu: SimdLevel; active: SimdLevel; available: SimdLevel[] };
  /** Caps the kernels' SIMD level for the whole process; returns the cap before, to restore it. */
  kernelsSetSimdLevel(level: SimdLevel): SimdLevel;
}

export function runtimeAddon(): RuntimeAddon {
  return loadAddon();
}

/** Token ids as the engine takes them. Int32Array.from would wrap 2^32 + 5 to 5 and cut 1.5 to 1, so an id
 *  that is not a non-negative integer within int32 is refused with its index instead. */
export function toIds(ids: ArrayLike<number>, what = 'token ids'): Int32Array {
  if (ids instanceof Int32Array) return ids;
  const out = new Int32Array(ids.length);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (!Number.isInteger(id) || id < 0 || id > 0x7fffffff) {
      throw new RangeError(`${what}[${i}] is ${String(id)}, not a token id (a non-negative integer below 2^31)`);
    }
    out[i] = id;
  }
  return out;
}

/** Runs `call` with a cancel flag (the Int32Array every async binding polls) that follows `signal`. The listener
 *  goes when the call settles, so one signal shared by many calls (a benchmark's repeats) does not collect listeners. */
async function withCancel<T>(signal: AbortSignal | undefined, call: (flag: Int32Array) => Promise<T>): Promise<T> {
  const flag = new Int32Array(1);
  if (!signal) return call(flag);
  const onAbort = (): void => {
    flag[0] = 1;
  };
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  try {
    return await call(flag);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/** Run options of an opened model (not the checkpoint's; native/model/runOptions.ts). */
export interface OpenOptions {
  kvCache?: KvCacheType;
  lmHead?: LmHeadType;
  /** A PEFT LoRA adapter folder applied over the model's linears, whatever their storage. */
  adapter?: string;
}

export class RuntimeModel {
  private constructor(
    readonly folder: string,
    readonly config: RuntimeConfig,
    private readonly addon: RuntimeAddon,
    private readonly handle: Handle,
    /** The adapter applied, when one was. */
    readonly adapter?: LoraAdapter,
  ) {}

  /** Opens a model folder (config.json + model.safetensors or its shards). Weights are mapped, not copied. */
  static open(folder: string, options: OpenOptions = {}): RuntimeModel {
    const config = readRuntimeConfig(folder);
    const addon = runtimeAddon();
    const run = { kvCache: options.kvCache ?? 'fp32', lmHead: options.lmHead ?? 'stored' };
    const adapter = options.adapter === undefined ? undefined : readLoraAdapter(options.adapter);
    const handle = addon.runtimeOpen(folder, { ...config, ...run }, adapter && engineAdapter(adapter));
    return new RuntimeModel(folder, config, addon, handle, adapter);
  }

  /** Logits [ids.length × vocabSize], row-major, for one sequence from position 0. */
  async logits(ids: ArrayLike<number>): Promise<Float32Array> {
    return this.addon.runtimeLogits(this.handle, toIds(ids));
  }

  /** Summed NLL over consecutive non-overlapping windows of `seq` inputs (the last, partial one included). */
  windowNll(
    ids: ArrayLike<number>,
    seq: number,
    onProgress?: (done: number, total: number) => void,
    signal?: AbortSignal,
  ): Promise<WindowNll> {
    return withCancel(signal, (flag) => this.addon.runtimePerplexity(this.handle, toIds(ids), seq, onProgress, flag));
  }

  /** exp(mean NLL) over the windows of windowNll; `seq` defaults to 256 (the project's protocol). */
  async perplexity(
    ids: ArrayLike<number>,
    options: { seq?: number; signal?: AbortSignal } = {},
    onProgress?: (done: number, total: number) => void,
  ): Promise<WindowNll & { perplexity: number; seconds: number }> {
    const started = process.hrtime.bigint();
    const r = await this.windowNll(ids, options.seq ?? 256, onProgress, options.signal);
    return { ...r, perplexity: Math.exp(r.nll / r.tokens), seconds: Number(process.hrtime.bigint() - started) / 1e9 };
  }

  /** Generates after `prompt`, calling onToken with each id as soon as it is produced. */
  async generateIds(
    prompt: ArrayLike<number>,
    options: GenerateIdsOptions = {},
    onToken: (id: number) => void = () => undefined,
  ): Promise<GenerateIdsResult> {
    const settings = {
      maxTokens: options.maxTokens ?? 64,
      temperature: options.temperature ?? 0,
      topK: options.topK ?? 0,
      topP: options.topP ?? 1,
      seed: options.seed ?? 0,
      stopIds: toIds(options.stopIds ?? this.config.eosTokenIds, 'stopIds'),
    };
    const run = (flag: Int32Array): Promise<GenerateIdsResult> =>
      this.addon.runtimeGenerate(this.handle, toIds(prompt, 'prompt'), settings, flag, onToken);
    return withCancel(options.signal, run).catch((e: unknown) => this.nameBadNumbers(e));
  }

  /** The engine does not know the folder; a model whose numbers went bad is named here. */
  private nameBadNumbers(e: unknown): never {
    if (e instanceof Error && /logits (of sequence \d+ )?are not finite/.test(e.message)) e.message = `${this.folder}: ${e.message}`;
    throw e;
  }

  /** Prefill of `batch` sequences of equal length (ids.length = batch × length), each from position 0 with a fresh
   *  cache. Returns the last position's logits of each sequence [batch × vocab] and the wall time of the forward.
   *  Every linear runs on all batch·length rows at once. Aborting rejects with "cancelled"; logits that are
   *  not finite reject naming the folder, the sequence and the stage where its numbers first went bad. */
  forwardBatch(ids: ArrayLike<number>, batch: number, options: { signal?: AbortSignal } = {}): Promise<BatchForwardResult> {
    return withCancel(options.signal, async (flag) => this.addon.runtimeForwardBatch(this.handle, toIds(ids), batch, flag)).catch(
      (e: unknown) => this.nameBadNumbers(e),
    );
  }

  /** Greedy generation of exactly `newTokens` tokens for each of `batch` prompts of equal length (no stop on eos —
   *  benchmarks generate a fixed count), with KV caches. tokens: [batch × newTokens]. onStep(done) after each
   *  decode step (throttled: a slow listener sees the latest count). prefillSeconds: the batched prompt pass;
   *  decodeSeconds: the rest. Aborting rejects with "cancelled"; non-finite logits as in forwardBatch. */
  generateBatch(
    prompts: ArrayLike<number>,
    batch: number,
    newTokens: number,
    options: { signal?: AbortSignal } = {},
    onStep?: (done: number) => void,
  ): Promise<BatchGenerateResult> {
    const run = (flag: Int32Array): Promise<BatchGenerateResult> =>
      this.addon.runtimeGenerateBatch(this.handle, toIds(prompts, 'prompts'), batch, newTokens, flag, onStep);
    return withCancel(options.signal, run).catch((e: unknown) => this.nameBadNumbers(e));
  }
}

export function openModel(folder: string, options: OpenOptions = {}): RuntimeModel {
  return RuntimeModel.open(folder, options);
}
