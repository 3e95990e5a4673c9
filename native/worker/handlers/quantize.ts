// Quantize a model folder into a checkpoint, optionally measuring perplexity before and after and
// generating a short sample with the result. The pipeline writes its own temp folder and renames it at
// the end, so a cancelled or failed job leaves nothing behind (the runner also sweeps `<out>.tmp-*`).
import * as fs from 'fs';
import * as path from 'path';
import {
  adapterRecord,
  readLoraAdapter,
  calibrationDefaults,
  CalibrationOptions,
  generateText,
  ModelConfigError,
  PipelinePlan,
  planFromConfig,
  QuantAlgorithm,
  QuantizeConfigError,
  quantizeModel,
  readRuntimeConfig,
  RuntimeModel,
  TextTokenizer,
  wikitext2TestPath,
} from '../../lib';
import { etaSeconds, HandlerOutput, JobContext, seconds } from '../context';
import { peakRssBytes } from '../environment';
import { checkBackendOptions, jobBackend } from '../jobBackend';
import { JobFailure } from '../jobFailure';
import { OutputLock } from '../outputLock';
import { AllocationRecord, BackendRecord, JsonObject, RunMetrics } from '../protocol';
import { checkSignRound, checkSignRoundModel } from '../../model';
import type { BitsAllocation, MixedPrecisionOptions, SignRoundOptions } from '../../model';
import { checkRunnable, quantizeOnPython } from './quantizePython';
import { LayerProgress } from './quantizeProgress';

/** How often the phase line says which layer runs while the engine is inside one. */
const TICK_MS = 1000;

interface EvaluateOptions {
  before?: boolean;
  after?: boolean;
  /** Only the first N tokens of the text (a quick figure); default all of it. */
  maxTokens?: number;
  seq?: number;
}

interface SampleOptions {
  prompt: string;
  maxTokens?: number;
}

async function perplexityOf(ctx: JobContext, folder: string, label: string, ids: number[], seq: number, adapter?: string): Promise<number> {
  const model = RuntimeModel.open(folder, { adapter });
  const started = process.hrtime.bigint();
  const r = await model.perplexity(ids, { seq, signal: ctx.signal }, (done, total) => {
    ctx.progress(`perplexity ${label}`, done, total, { etaSeconds: etaSeconds(started, done, total) });
  });
  ctx.log('info', `perplexity ${label}: ${r.perplexity.toFixed(4)} over ${ids.length} tokens`);
  return r.perplexity;
}

/** The bytes of a model folder's weight files (what the quantized checkpoint replaces). */
function weightFileBytes(folder: string): number {
  return fs
    .readdirSync(folder)
    .filter((f) => f.endsWith('.safetensors'))
    .reduce((sum, f) => sum + fs.statSync(path.join(folder, f)).size, 0);
}

/** The model's decoder layers for the ticks before the engine's first layer event; 0 (no ticks) when its config is unreadable, which the engine reports. */
function layersOf(folder: string): number {
  try {
    return readRuntimeConfig(folder).layers;
  } catch {
    return 0;
  }
}

export async function runQuantize(ctx: JobContext): Promise<HandlerOutput> {
  return OutputLock.around(ctx.job.options.out as string, () => quantize(ctx));
}

async function quantize(ctx: JobContext): Promise<HandlerOutput> {
  const o = ctx.job.options;
  if (ctx.job.config === undefined) throw new JobFailure('INVALID_JOB', 'quantize jobs need a quantization config (job.config)', 'config');
  const backend = jobBackend(o);
  checkBackendOptions(o, backend);
  const signRound = signRoundOf(o.signRound);
  let plan: PipelinePlan;
  try {
    // Before the evaluation of the source model: a model the pipeline cannot quantize costs no work.
    plan = planFromConfig(ctx.job.config, o.algorithm as QuantAlgorithm | undefined);
    if (backend.name === 'python') checkRunnable(plan, o.format as string | undefined);
    if (signRound) checkSignRound(ctx.job.config, plan);
    const model = readRuntimeConfig(ctx.modelFolder);
    if (signRound) checkSignRoundModel(model);
  } catch (error) {
    if (error instanceof ModelConfigError) throw new JobFailure('INVALID_MODEL', error.message, 'model');
    if (error instanceof QuantizeConfigError) throw new JobFailure('INVALID_JOB', error.message, 'config');
    throw error;
  }
  const evaluate = (o.evaluate ?? {}) as EvaluateOptions;
  // job.schema.json: with `evaluate` given, `before` defaults to false and `after` to true; without it, neither
  const before = evaluate.before ?? false;
  const after = o.evaluate !== undefined && (evaluate.after ?? true);
  const sample = o.generate as SampleOptions | undefined;
  const metrics: RunMetrics = {};

  let evalIds: number[] = [];
  const seq = evaluate.seq ?? 256;
  if (before || after) {
    ctx.progress('read evaluation text', 0, 1); // tokenizing WikiText-2's test split takes seconds on its own
    const textPath = (o.text as string | undefined) ?? wikitext2TestPath();
    const all = TextTokenizer.load(ctx.modelFolder).encode(fs.readFileSync(textPath, 'utf8'), { addSpecialTokens: false });
    evalIds = evaluate.maxTokens === undefined ? all : all.slice(0, evaluate.maxTokens);
    metrics.evaluationTokens = evalIds.length;
  }
  // Merge then quantize: "before" is the adapted model, which the merged checkpoint should match.
  const adapter = o.adapter as string | undefined;
  if (before) metrics.perplexityBefore = await perplexityOf(ctx, ctx.modelFolder, 'before', evalIds, seq, adapter);

  const started = process.hrtime.bigint();
  if (backend.name === 'python') {
    const r = await quantizeOnPython(ctx, plan, backend.python);
    metrics.quantizeSeconds = seconds(started);
    metrics.layers = r.layersDone;
    metrics.pythonPeakRssBytes = r.memory.peakRssBytes;
    metrics.cudaMaxAllocatedBytes = r.memory.cudaMaxAllocatedBytes;
    return finish(ctx, { out: r.out, bytes: r.bytes }, { metrics, evalIds, seq, after, sample, backend: r.backend });
  }
  const mixedPrecision = mixedPrecisionOf(o.mixedPrecision);
  const startedCpu = process.cpuUsage();
  const now = (): number => seconds(started);
  const calibration = (o.calibration ?? {}) as CalibrationOptions;
  const progress = new LayerProgress({
    windows: calibration.nsamples ?? calibrationDefaults.nsamples,
    tokens: calibration.seqlen ?? calibrationDefaults.seqlen,
  });
  const layerCount = layersOf(ctx.modelFolder);
  const ticker = setInterval(() => {
    const tick = progress.tick(now(), layerCount);
    if (tick) ctx.progress(tick.phase, tick.current, tick.total, tick);
  }, TICK_MS);
  let result;
  try {
    result = await quantizeModel(
      {
        model: ctx.modelFolder,
        config: ctx.job.config,
        algorithm: o.algorithm as QuantAlgorithm | undefined,
        out: o.out as string,
        calibration: o.calibration as CalibrationOptions | undefined,
        overwrite: (o.overwrite as boolean | undefined) ?? false,
        maxShardBytes: o.maxShardBytes as number | undefined,
        adapter,
        ...(mixedPrecision ? { mixedPrecision } : {}),
        ...(signRound ? { signRound } : {}),
      },
      {
        signal: ctx.signal,
        onProgress: (p) => {
          const event = progress.onEngine(p, now());
          if (!event) return;
          ctx.progress(event.phase, event.current, event.total, event);
          if (event.detail) ctx.log('info', event.message ?? event.detail.layer);
        },
      },
    );
  } catch (error) {
    if (error instanceof QuantizeConfigError) throw new JobFailure('INVALID_JOB', error.message, 'config');
    throw error;
  } finally {
    clearInterval(ticker);
  }
  metrics.quantizeSeconds = seconds(started);
  // The worker's CPU time over the same span, every thread's: what a loaded machine does not stretch.
  const cpu = process.cpuUsage(startedCpu);
  metrics.quantizeCpuSeconds = (cpu.user + cpu.system) / 1e6;
  metrics.layers = result.layers.length;
  metrics.meanLayerError = result.layers.reduce((sum, l) => sum + l.error, 0) / Math.max(1, result.layers.length);
  const layers = result.layers.map(({ name, seconds: s, error, errorKind, expertTokens, fallbackExperts, raisedDamping, signRound }) => ({
    name,
    seconds: s,
    error,
    errorKind,
    ...(expertTokens ? { expertTokens, fallbackExperts } : {}),
    ...(raisedDamping ? { raisedDamping } : {}),
    ...(signRound ? { signRound } : {}),
  }));
  const raised = result.layers.flatMap((l) => (l.raisedDamping ?? []).map((d) => `${d.module} ${d.dampPercent.toFixed(4)}`));
  if (raised.length > 0)
    ctx.log('warn', `damping raised until the Hessian factorised (GPTQModel 7.7's damp_auto_increment): ${raised.join(', ')}`);
  const starved = result.layers.flatMap((l) =>
    (l.fallbackExperts ?? []).map((e) => `${l.name} expert ${e} (${l.expertTokens?.[e] ?? 0} tokens)`),
  );
  if (starved.length > 0)
    ctx.log('warn', `quantized round-to-nearest for too few calibration tokens (GPTQModel 7.7's fallback): ${starved.join(', ')}`);
  const allocation = result.allocation && allocationRecord(result.allocation);
  if (allocation) ctx.log('info', allocationMessage(allocation));
  const output = await finish(ctx, result, { metrics, evalIds, seq, after, sample, backend: { name: 'engine' } });
  return {
    ...output,
    layers,
    ...(allocation ? { allocation } : {}),
    ...(adapter === undefined ? {} : { adapter: adapterRecord(readLoraAdapter(adapter)) }),
  };
}

/** options.mixedPrecision checked field by field (schemas/job.schema.json), or undefined when the job has none. */
function mixedPrecisionOf(value: unknown): MixedPrecisionOptions | undefined {
  if (value === undefined) return undefined;
  const m = value as JsonObject;
  const bad = (key: string, expected: string): never => {
    throw new JobFailure(
      'INVALID_JOB',
      `options.mixedPrecision.${key} must be ${expected}, got ${JSON.stringify(m[key])}`,
      `options.mixedPrecision.${key}`,
    );
  };
  const unknown = Object.keys(m).find((k) => !['bitsPerWeight', 'bits', 'samples'].includes(k));
  if (unknown !== undefined) bad(unknown, 'absent (known: bitsPerWeight, bits, samples)');
  const { bitsPerWeight, bits, samples } = m;
  if (typeof bitsPerWeight !== 'number' || !(bitsPerWeight > 0)) bad('bitsPerWeight', 'a positive number of bits per weight');
  if (bits !== undefined && !(typeof bits === 'number' && Number.isInteger(bits))) bad('bits', 'a width (3, 4 or 8)');
  if (samples !== undefined && !(typeof samples === 'number' && Number.isInteger(samples) && samples > 0))
    bad('samples', 'a positive integer');
  return {
    bitsPerWeight: bitsPerWeight as number,
    ...(bits === undefined ? {} : { bits: bits as number }),
    ...(samples === undefined ? {} : { samples: samples as number }),
  };
}

/** options.signRound checked field by field (schemas/job.schema.json), or undefined when the job has none; null lr and
 *  minmaxLr take their defaults as absent ones do. */
export function signRoundOf(value: unknown): SignRoundOptions | undefined {
  if (value === undefined) return undefined;
  const m = value as JsonObject;
  const bad = (key: string, expected: string): never => {
    throw new JobFailure(
      'INVALID_JOB',
      `options.signRound.${key} must be ${expected}, got ${JSON.stringify(m[key])}`,
      `options.signRound.${key}`,
    );
  };
  const unknown = Object.keys(m).find((k) => !['iters', 'lr', 'minmaxLr', 'batchSize'].includes(k));
  if (unknown !== undefined) bad(unknown, 'absent (known: iters, lr, minmaxLr, batchSize)');
  const { iters, lr, minmaxLr, batchSize } = m;
  const count = (v: unknown): boolean => v === undefined || (typeof v === 'number' && Number.isInteger(v) && v >= 1);
  const step = (v: unknown): boolean => v === undefined || v === null || (typeof v === 'number' && Number.isFinite(v) && v > 0);
  if (!count(iters)) bad('iters', 'a positive integer');
  if (!step(lr)) bad('lr', 'a number above 0 (or null: 1 / iters)');
  if (!step(minmaxLr)) bad('minmaxLr', 'a number above 0 (or null: lr)');
  if (!count(batchSize)) bad('batchSize', 'a positive integer');
  const field = (key: string, v: unknown) => (v === undefined || v === null ? {} : { [key]: v as number });
  return { ...field('iters', iters), ...field('lr', lr), ...field('minmaxLr', minmaxLr), ...field('batchSize', batchSize) };
}

function allocationRecord(a: BitsAllocation): AllocationRecord {
  const { target, bitsPerWeight, baseBits, wideBits, samples, fpNll, seconds: s, layers } = a;
  return { target, bitsPerWeight, baseBits, wideBits, samples, fpNll, seconds: s, layers };
}

/** "mixed precision: model.layers.0 widened to 4 bits (1 of 4 layers): 3.49 bits per weight, budget 3.5; ..." */
export function allocationMessage(a: AllocationRecord): string {
  const widened = a.layers.filter((l) => l.widened);
  const names =
    widened.length === 0 ? 'no layer fits the budget' : `${widened.map((l) => l.layer).join(', ')} widened to ${a.wideBits} bits`;
  const ranked = [...a.layers].sort((x, y) => y.gain / y.cost - x.gain / x.cost);
  const gains = ranked.map((l) => `${l.layer} ${(l.gain * 1e3).toFixed(2)}`).join(', ');
  return (
    `mixed precision: ${names} (${widened.length} of ${a.layers.length} layers): ${a.bitsPerWeight.toFixed(2)} bits per weight, ` +
    `budget ${a.target}; KL divergence saved per token ×1e3, measured on ${a.samples} calibration windows in ${a.seconds.toFixed(1)} s: ${gains}`
  );
}

interface Finishing {
  metrics: RunMetrics;
  evalIds: number[];
  seq: number;
  after: boolean;
  sample: SampleOptions | undefined;
  backend: BackendRecord;
}

/** What follows the quantization on either backend, on the native runtime: perplexity after and a sample. */
async function finish(ctx: JobContext, result: { out: string; bytes: number }, f: Finishing): Promise<HandlerOutput> {
  const { metrics, evalIds, seq, after, sample } = f;
  if (after) {
    metrics.perplexityAfter = await perplexityOf(ctx, result.out, 'after', evalIds, seq);
    if (metrics.perplexityBefore !== undefined) metrics.perplexityDelta = metrics.perplexityAfter - metrics.perplexityBefore;
  }
  let text: string | undefined;
  if (sample) {
    ctx.progress('generate', 0, 1);
    const r = await generateText(
      RuntimeModel.open(result.out),
      TextTokenizer.load(result.out),
      {
        prompt: sample.prompt,
        maxTokens: sample.maxTokens ?? 32,
        signal: ctx.signal,
      },
      (chunk) => ctx.token(chunk),
    );
    text = r.text;
    metrics.tokensPerSecond = r.tokensPerSecond;
    ctx.progress('generate', 1, 1);
  }
  metrics.peakRssBytes = peakRssBytes();
  metrics.inputWeightBytes = weightFileBytes(ctx.modelFolder);
  return { metrics, backend: f.backend, output: { folder: result.out, bytes: result.bytes }, ...(text === undefined ? {} : { text }) };
}
