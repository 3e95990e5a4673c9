// The benchmark job: one model and its variants side by side — the model itself as the baseline, each
// config variant quantized with the real pipeline into a scratch folder, each checkpoint variant as is —
// measured one variant per child process (load time, forward and generation latency and throughput per
// batch size, peak memory, WikiText-2 perplexity and its delta to the baseline). The scratch folder goes
// away when the job ends, also on error and cancel; a cancel kills the running child at once.
import { readRuntimeConfig } from '../../runtime-config';
import type { BenchmarkRow, Job, RunnerMessage } from '../protocol';
import { HandlerOutput, JobContext } from '../context';
import { ChildRelay, runInChild } from './benchmark/childProcess';
import { tokenPool } from './benchmark/inputs';
import { MeasureMessage, MeasureReport } from './benchmark/messages';
import { BenchmarkPlan, VariantPlan, benchmarkPlan } from './benchmark/plan';
import { rowsOf } from './benchmark/rows';
import { ScratchFolder } from './benchmark/scratch';

function relayTo(ctx: JobContext, rename?: (phase: string, message?: string) => { phase: string; message?: string }): ChildRelay {
  return {
    progress: (phase, current, total, extra) => {
      const named = rename ? rename(phase, extra.message) : { phase, message: extra.message };
      ctx.progress(named.phase, current, total, { ...(named.message === undefined ? {} : { message: named.message }), ...(extra.etaSeconds === undefined ? {} : { etaSeconds: extra.etaSeconds }) });
    },
    log: (level, text) => ctx.log(level, text),
  };
}

async function quantizeVariant(ctx: JobContext, variant: VariantPlan, out: string): Promise<string> {
  if (variant.source.kind !== 'config') return variant.source.folder;
  const { config, algorithm, calibration } = variant.source;
  const job: Job = { kind: 'quantize', model: ctx.modelFolder, config, options: { out, calibration, ...(algorithm === undefined ? {} : { algorithm }) } };
  const message: RunnerMessage = { type: 'run', job };
  // The quantize worker's phases (tokenize, calibrate, layer, write) become details of one "quantize <variant>" phase.
  const relay = relayTo(ctx, (phase, detail) => ({ phase: `quantize ${variant.label}`, message: detail === undefined ? phase : `${phase}: ${detail}` }));
  const result = await runInChild(message, `quantizing "${variant.label}" (${variant.where})`, ctx.signal, relay, (m) => (m.type === 'result' ? m.result : undefined));
  ctx.log('info', `quantized "${variant.label}" in ${(result.metrics.quantizeSeconds ?? 0).toFixed(1)} s`);
  return result.output?.folder ?? out;
}

function measure(ctx: JobContext, plan: BenchmarkPlan, pool: number[], variant: VariantPlan, folder: string): Promise<MeasureReport> {
  const message: MeasureMessage = {
    type: 'measure',
    request: { label: variant.label, folder, pool, batchSizes: plan.batchSizes, promptLength: plan.promptLength, generate: plan.generate, evaluate: plan.evaluate, repeat: plan.repeat },
  };
  return runInChild(message, `measuring "${variant.label}" (${variant.where})`, ctx.signal, relayTo(ctx), (m) => (m.type === 'measured' ? m.report : undefined));
}

export async function runBenchmark(ctx: JobContext): Promise<HandlerOutput> {
  const plan = benchmarkPlan(ctx.job, ctx.modelFolder);
  ctx.progress('tokenize', 0, 1, { message: 'WikiText-2 test' });
  const pool = tokenPool(ctx.modelFolder, plan);
  ctx.progress('tokenize', 1, 1, { message: `${pool.length} tokens` });

  const scratch = new ScratchFolder();
  const rows: BenchmarkRow[] = [];
  let baselinePerplexity: number | null = null;
  try {
    for (const [i, variant] of plan.variants.entries()) {
      const folder = await quantizeVariant(ctx, variant, scratch.pathFor(i));
      const report = await measure(ctx, plan, pool, variant, folder);
      if (i === 0) baselinePerplexity = report.perplexity;
      rows.push(...rowsOf(variant, report, baselinePerplexity));
      // A measured checkpoint is not needed any more; big models would fill the disk otherwise.
      if (variant.source.kind === 'config') scratch.removeVariant(i);
    }
  } finally {
    scratch.remove();
  }
  return {
    model: { architecture: readRuntimeConfig(ctx.modelFolder).architecture },
    metrics: {
      variants: plan.variants.length,
      ...(baselinePerplexity === null ? {} : { perplexity: baselinePerplexity, evaluationTokens: plan.evaluate?.maxTokens }),
    },
    rows,
  };
}
