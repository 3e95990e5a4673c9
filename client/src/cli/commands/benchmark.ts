// `quantstudio benchmark <job.quant.json> | --model <dir|hub id> [--config <file>]... [--variant <dir>]... [--batch 1,16]
// [--prompt-length N] [--prompt-tokens N] [--new-tokens N[,N]] [--eval-tokens N | --no-eval] [--repeat N]
// [--kv-cache fp32|fp16] [--lm-head stored|int8] [--adapter <folder>] [--backend engine|python] [--python <interpreter>] [--kernel <name>] [--json]`:
// the model as the baseline and each variant side by side — load time, per-token latency and throughput of a
// forward pass and of generation per batch size, peak memory, WikiText-2 perplexity and its delta — on the
// engine, or with --backend python on transformers in the --python interpreter (else python3 on PATH). Prints a
// table, or with --json the RunResult.
import { resolve } from 'node:path';
import type { Command } from '../command';
import { usageError } from '../command';
import { backendLabel, benchmarkJobFromJobFile, configVariantOf } from '../../jobs';
import {
  cliServingGrant,
  SERVING_FLAGS,
  SERVING_SWITCHES,
  SERVING_USAGE,
  servingFlagOptions,
  servingJobFromFlags,
  servingTable,
} from './servingBenchmark';
import {
  BACKEND_FLAGS,
  integerList,
  BACKEND_USAGE,
  backendOptions,
  KERNEL_FLAG,
  KERNEL_USAGE,
  kernelOption,
  parseFlags,
  positiveInteger,
  RUN_OPTION_FLAGS,
  RUN_OPTION_USAGE,
  runOptions,
} from '../flags';
import type { ParsedFlags } from '../flags';
import { runCliJob } from '../runJob';
import { inMiB } from '../../../../native/model';
import type { Job, RunResult } from '../../jobs';

const REPEATABLE = ['--config', '--variant'];

/** Takes out the flags that may be given several times; the rest goes to the usual parser. */
function takeRepeatable(args: readonly string[]): { rest: string[]; values: Map<string, string[]> } | string {
  const rest: string[] = [];
  const values = new Map<string, string[]>(REPEATABLE.map((f) => [f, []]));
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (!REPEATABLE.includes(arg)) {
      rest.push(arg);
      continue;
    }
    const value = args[++i];
    if (value === undefined) return `${arg} needs a value`;
    values.get(arg)!.push(value);
  }
  return { rest, values };
}

/** The run-shaping flags as job options (those given), or an error string. */
function optionsFromFlags(flags: ParsedFlags): Record<string, unknown> | string {
  const options: Record<string, unknown> = {};
  const batchSizes = integerList(flags, '--batch');
  const newTokens = integerList(flags, '--new-tokens');
  const promptLength = positiveInteger(flags, '--prompt-length');
  const promptTokens = positiveInteger(flags, '--prompt-tokens');
  const evalTokens = positiveInteger(flags, '--eval-tokens');
  const repeat = positiveInteger(flags, '--repeat');
  const run = runOptions(flags);
  for (const v of [batchSizes, newTokens, promptLength, promptTokens, evalTokens, repeat, run]) if (typeof v === 'string') return v;
  if (evalTokens !== undefined && flags.switches.has('--no-eval')) return 'give --eval-tokens or --no-eval, not both';
  if (batchSizes !== undefined) options.batchSizes = batchSizes;
  if (promptLength !== undefined) options.promptLength = promptLength;
  if (newTokens !== undefined || promptTokens !== undefined) {
    options.generate = { ...(promptTokens === undefined ? {} : { promptTokens }), ...(newTokens === undefined ? {} : { newTokens }) };
  }
  if (evalTokens !== undefined) options.evaluate = { maxTokens: evalTokens };
  if (flags.switches.has('--no-eval')) options.evaluate = false;
  if (repeat !== undefined) options.repeat = repeat;
  return { ...options, ...(run as object), ...backendOptions(flags), ...kernelOption(flags) };
}

function fixed(v: number | null, digits: number): string {
  return v === null ? '—' : v.toFixed(digits);
}

/** "0.123 (0.120–0.131)": the median run's figure and, when several runs were timed, the fastest–slowest. */
function withRange(value: number, range: readonly [number, number] | undefined, digits: number): string {
  return range === undefined ? value.toFixed(digits) : `${value.toFixed(digits)} (${range[0].toFixed(digits)}–${range[1].toFixed(digits)})`;
}

function table(run: RunResult): string {
  const header = ['variant', 'phase', 'batch', 'tokens', 'kernel', 'load s', 'ms/step', 'tokens/s', 'peak MiB', 'perplexity', 'delta'];
  const body = (run.rows ?? []).map((r) => [
    r.variant,
    r.phase,
    String(r.batch),
    r.phase === 'forward' ? String(r.promptTokens) : `${r.promptTokens}+${r.newTokens}`,
    r.kernel,
    r.loadSeconds.toFixed(3),
    withRange(r.perTokenLatencyMs, r.perTokenLatencyMsRange, 3),
    withRange(r.throughputTokensPerSecond, r.throughputTokensPerSecondRange, 1),
    inMiB(r.peakMemoryBytes),
    fixed(r.perplexity, 4),
    r.perplexityDelta === null ? '—' : `${r.perplexityDelta >= 0 ? '+' : ''}${r.perplexityDelta.toFixed(4)}`,
  ]);
  const lines = [header, ...body];
  const widths = header.map((_, c) => Math.max(...lines.map((l) => (l[c] ?? '').length)));
  const text = lines.map((l) =>
    l
      .map((cell, c) => (c < 2 || c === 4 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!)))
      .join('  ')
      .trimEnd(),
  );
  const evaluated =
    run.metrics.evaluationTokens === undefined ? '' : `, perplexity over ${run.metrics.evaluationTokens} WikiText-2 test tokens`;
  const runs = run.rows?.[0]?.runs;
  const how = runs === undefined ? '' : `; median of ${runs} timed runs after a warm-up run (fastest–slowest in brackets)`;
  const note = `ms/step: one token of each sequence in the batch (per token at batch 1)${how}`;
  const where = run.backend?.name === 'python' ? `on ${backendLabel(run.backend)}` : `${run.environment.threads} threads`;
  return `benchmark of ${run.model.ref} in ${run.durationSeconds.toFixed(1)} s (${where}${evaluated})\n${text.join('\n')}\n${note}\n`;
}

async function printServing(job: Job, flags: ParsedFlags): Promise<number> {
  const run = await runCliJob('benchmark', job, { serving: cliServingGrant(flags) });
  if (!run) return 1;
  process.stdout.write(flags.switches.has('--json') ? `${JSON.stringify(run, null, 2)}\n` : servingTable(run));
  return 0;
}

export const benchmarkCommand: Command = {
  name: 'benchmark',
  summary: 'latency, throughput, peak memory and perplexity of a model and its quantized variants side by side',
  usage:
    'quantstudio benchmark <job.quant.json> | --model <dir|hub id> [--config <file>]... [--variant <dir>]... [--batch 1,16] [--prompt-length N] [--prompt-tokens N] [--new-tokens N[,N]] [--eval-tokens N | --no-eval] [--repeat N] ' +
    `${RUN_OPTION_USAGE} ${BACKEND_USAGE} ${KERNEL_USAGE} [--json]\n  or: ${SERVING_USAGE}`,
  async run(args) {
    const taken = takeRepeatable(args);
    if (typeof taken === 'string') return usageError(this, taken);
    const flags = parseFlags(taken.rest, {
      values: [
        '--model',
        '--batch',
        '--prompt-length',
        '--prompt-tokens',
        '--new-tokens',
        '--eval-tokens',
        '--repeat',
        ...RUN_OPTION_FLAGS,
        ...BACKEND_FLAGS,
        KERNEL_FLAG,
        ...SERVING_FLAGS,
      ],
      switches: ['--json', '--no-eval', ...SERVING_SWITCHES],
      positional: 1,
    });
    if (typeof flags === 'string') return usageError(this, flags);
    const serving = servingFlagOptions(flags);
    if (typeof serving === 'string') return usageError(this, serving);
    if (flags.values.has('--endpoint')) {
      if (flags.positional.length > 0) return usageError(this, 'give either a job file or --endpoint, not both');
      const job = servingJobFromFlags(flags, serving);
      return typeof job === 'string' ? usageError(this, job) : printServing(job, flags);
    }
    const options = optionsFromFlags(flags);
    if (typeof options === 'string') return usageError(this, options);

    let job: Job;
    const [jobFile] = flags.positional;
    if (jobFile !== undefined) {
      if (flags.values.has('--model')) return usageError(this, 'give either a job file or --model, not both');
      const fromFile = benchmarkJobFromJobFile(jobFile);
      if (typeof fromFile === 'string') return usageError(this, fromFile);
      if (fromFile.kind === 'serving') return printServing({ ...fromFile, options: { ...fromFile.options, ...serving } }, flags);
      job = fromFile;
    } else {
      const model = flags.values.get('--model');
      if (!model) return usageError(this, 'give a job file or --model');
      job = { kind: 'benchmark', model, options: { variants: [] } };
    }
    const variants = job.options.variants as unknown[];
    for (const file of taken.values.get('--config')!) {
      const variant = configVariantOf(file);
      if (typeof variant === 'string') return usageError(this, variant);
      variants.push(variant);
    }
    for (const folder of taken.values.get('--variant')!) variants.push({ model: resolve(folder) });
    Object.assign(job.options, options);

    const run = await runCliJob(this.name, job);
    if (!run) return 1;
    process.stdout.write(flags.switches.has('--json') ? `${JSON.stringify(run, null, 2)}\n` : table(run));
    return 0;
  },
};
