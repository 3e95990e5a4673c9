// The benchmark job: one model and its variants side by side — the model itself as the baseline, each
// config variant quantized with the real pipeline into a scratch folder, each checkpoint variant as is —
// measured one variant per child process (load time, forward and generation latency and throughput per
// batch size, peak memory, WikiText-2 perplexity and its delta to the baseline). On the python backend the
// libraries quantize the config variants and transformers measures each variant, in the user's Python. The
// scratch folder goes away when the job ends, also on error and cancel; a cancel kills the running child at once.
import { adapterRecord, readLoraAdapter, readRuntimeConfig } from '../../lib';
import type { BackendRecord, BenchmarkRow, Job, RunnerMessage } from '../protocol';
import { HandlerOutput, JobContext } from '../context';
import { ChildRelay, runInChild } from './benchmark/childProcess';
import { tokenPool } from './benchmark/inputs';
import { MeasureMessage, MeasureReport, MeasureRequest } from './benchmark/messages';
import { measureOnPython } from './benchmark/measurePython';
import { BenchmarkPlan, VariantPlan, benchmarkPlan } from './benchmark/plan';
import { rowsOf } from './benchmark/rows';
import { ScratchFolder } from './benchmark/scratch';

type Spans = ReadonlyArray<readonly [phase: string, start: number, end: number]>;

/** Where a phase sits within its variant's share of the job, [start, end) as fractions: first the quantize
 *  worker's phases (a config variant), then the measuring child's ("load <variant>", "measure <variant> bs16"…). */
const STAGE_SPANS: Readonly<Record<'quantize' | 'measure', Spans>> = {
  quantize: [
    ['tokenize', 0, 0.02],
    ['load', 0.02, 0.03],
    ['calibrate', 0.03, 0.06],
    ['layer', 0.06, 0.36],
    ['quantize', 0.06, 0.36], // the once-a-second tick while a layer runs, counted in layers like 'layer'
    ['write', 0.36, 0.4],
    ['done', 0.4, 0.4],
  ],
  measure: [
    ['load', 0.4, 0.45],
    ['measure', 0.45, 0.85],
    ['perplexity', 0.85, 1],
  ],
};

/** The whole job's progress, 0..1, from variant `index` of `count` being at `current/total` of a `stage` phase. */
export function overallProgress(
  index: number,
  count: number,
  stage: 'quantize' | 'measure',
  phase: string,
  current: number,
  total: number,
): number {
  const span = STAGE_SPANS[stage].find(([name]) => phase === name || phase.startsWith(`${name} `));
  const within = span ? span[1] + (span[2] - span[1]) * (total > 0 ? Math.min(1, current / total) : 0) : 0;
  return Math.min(1, (index + within) / count);
}

function relayTo(
  ctx: JobContext,
  variant: { index: number; count: number; stage: 'quantize' | 'measure' },
  rename?: (phase: string, message?: string) => { phase: string; message?: string },
): ChildRelay {
  // A tick can run ahead of the engine's next phase (it starts with the first layer's load): never step back.
  let highest = 0;
  return {
    progress: (phase, current, total, extra) => {
      const named = rename ? rename(phase, extra.message) : { phase, message: extra.message };
      highest = Math.max(highest, overallProgress(variant.index, variant.count, variant.stage, phase, current, total));
      ctx.progress(named.phase, current, total, {
        ...(named.message === undefined ? {} : { message: named.message }),
        ...(extra.etaSeconds === undefined ? {} : { etaSeconds: extra.etaSeconds }),
        overall: highest,
      });
    },
    log: (level, text) => ctx.log(level, text),
  };
}

async function quantizeVariant(
  ctx: JobContext,
  plan: BenchmarkPlan,
  variant: VariantPlan,
  out: string,
  position: { index: number; count: number },
): Promise<string> {
  if (variant.source.kind !== 'config') return variant.source.folder;
  const { config, algorithm, calibration } = variant.source;
  const backend = plan.backend.name === 'python' ? { backend: 'python', python: plan.backend.python } : {};
  const job: Job = {
    kind: 'quantize',
    model: ctx.modelFolder,
    config,
    options: { out, calibration, ...(algorithm === undefined ? {} : { algorithm }), ...backend },
  };
  const message: RunnerMessage = { type: 'run', job };
  // The quantize worker's phases (tokenize, calibrate, layer, write) become details of one "quantize <variant>" phase.
  const relay = relayTo(ctx, { ...position, stage: 'quantize' }, (phase, detail) => ({
    phase: `quantize ${variant.label}`,
    message: detail === undefined ? phase : `${phase}: ${detail}`,
  }));
  const result = await runInChild(message, `quantizing "${variant.label}" (${variant.where})`, ctx.signal, relay, (m) =>
    m.type === 'result' ? m.result : undefined,
  );
  ctx.log('info', `quantized "${variant.label}" in ${(result.metrics.quantizeSeconds ?? 0).toFixed(1)} s`);
  return result.output?.folder ?? out;
}

/** One variant measured: in a fork of this worker (engine), or by the measure runner in the user's Python. */
async function measure(
  ctx: JobContext,
  plan: BenchmarkPlan,
  pool: number[],
  variant: VariantPlan,
  folder: string,
  position: { index: number; count: number },
): Promise<{ report: MeasureReport; backend: BackendRecord }> {
  const request: MeasureRequest = {
    label: variant.label,
    folder,
    pool,
    batchSizes: plan.batchSizes,
    promptLength: plan.promptLength,
    generate: plan.generate,
    evaluate: plan.evaluate,
    repeat: plan.repeat,
    kvCache: plan.kvCache,
    lmHead: plan.lmHead,
    ...(plan.adapter === undefined ? {} : { adapter: plan.adapter }),
    ...(plan.kernel === undefined ? {} : { kernel: plan.kernel }),
  };
  const relay = relayTo(ctx, { ...position, stage: 'measure' });
  if (plan.backend.name === 'python') return measureOnPython(request, plan.backend.python, relay, ctx.signal);
  const message: MeasureMessage = { type: 'measure', request };
  const report = await runInChild(message, `measuring "${variant.label}" (${variant.where})`, ctx.signal, relay, (m) =>
    m.type === 'measured' ? m.report : undefined,
  );
  return { report, backend: { name: 'engine' } };
}

function mergedLibraries(a: BackendRecord, b: BackendRecord): Pick<BackendRecord, 'libraries'> {
  return a.libraries || b.libraries ? { libraries: { ...a.libraries, ...b.libraries } } : {};
}

export async function runBenchmark(ctx: JobContext): Promise<HandlerOutput> {
  const plan = benchmarkPlan(ctx.job, ctx.modelFolder);
  ctx.progress('tokenize', 0, 1, { message: 'WikiText-2 test' });
  const pool = tokenPool(ctx.modelFolder, plan);
  ctx.progress('tokenize', 1, 1, { message: `${pool.length} tokens` });

  const scratch = new ScratchFolder();
  const rows: BenchmarkRow[] = [];
  let baselinePerplexity: number | null = null;
  let backend: BackendRecord = { name: 'engine' };
  try {
    for (const [i, variant] of plan.variants.entries()) {
      const position = { index: i, count: plan.variants.length };
      const folder = await quantizeVariant(ctx, plan, variant, scratch.pathFor(i), position);
      const measured = await measure(ctx, plan, pool, variant, folder, position);
      const report = measured.report;
      // Each variant imports its own libraries (bitsandbytes, GPTQModel): the run names them all.
      backend = { ...measured.backend, ...mergedLibraries(backend, measured.backend) };
      if (i === 0) baselinePerplexity = report.perplexity;
      rows.push(...rowsOf(variant, report, baselinePerplexity));
      // A measured checkpoint is not needed any more; big models would fill the disk otherwise.
      if (variant.source.kind === 'config') scratch.removeVariant(i);
    }
  } finally {
    scratch.remove();
  }
  return {
    backend,
    model: { architecture: readRuntimeConfig(ctx.modelFolder).architecture },
    metrics: {
      variants: plan.variants.length,
      ...(baselinePerplexity === null ? {} : { perplexity: baselinePerplexity, evaluationTokens: plan.evaluate?.maxTokens }),
    },
    rows,
    ...(plan.adapter === undefined ? {} : { adapter: adapterRecord(readLoraAdapter(plan.adapter)) }),
  };
}
