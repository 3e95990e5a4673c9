// `quantstudio estimate --model <dir|hub id> [--config <file>] [--batch N] [--seq N] [--target cuda|cpu]
// [--new-tokens N] [--threads N] [--kv-cache fp32|fp16] [--lm-head stored|int8] [--json]`: memory needed by a model under a quantization config (weights,
// KV cache, activations, overhead, peak). Without --config, every compared method side by side (cuda) or the
// model as stored (cpu). --target cpu: the peak RSS of our CPU engine's job worker, --seq prompt tokens
// followed by --new-tokens generated ones, the KV cache and lm_head as the run options say. --json prints
// {model, target, method, weightsBytes, kvCacheBytes, activationBytes, overheadBytes, peakBytes, breakdown, methods?}.
import { readFileSync, statSync } from 'node:fs';
import { cpus, homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { compareMethods, estimateCpuMemory, estimateMemory, formatModelError, humanBytes, resolveModel } from '../../../native/model';
import type { JsonObject, MemoryEstimate, ResolvedModel, Result } from '../../../native/model';
import { RUN_OPTION_FLAGS, runOptions } from './flags';
import type { RunOptions } from './flags';
import { engineThreads } from '../../../native/worker/protocol';
import type { Command } from './command';
import { usageError } from './command';

interface EstimateArgs {
  model: string | undefined;
  config: string | undefined;
  batch: number;
  seq: number;
  json: boolean;
  target: 'cuda' | 'cpu';
  newTokens: number;
  threads: number | undefined;
  /** The engine's run options (CPU target only). */
  run: RunOptions;
}

const VALUE_FLAGS = new Set(['--model', '--config', '--batch', '--seq', '--target', '--new-tokens', '--threads', ...RUN_OPTION_FLAGS]);

function parseArgs(args: readonly string[]): EstimateArgs | string {
  const values = new Map<string, string>();
  let json = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--json') json = true;
    else if (VALUE_FLAGS.has(arg)) {
      const value = args[++i];
      if (value === undefined) return `${arg} needs a value`;
      values.set(arg, value);
    } else return `unexpected argument '${arg}'`;
  }
  const count = (flag: string, fallback: number, minimum = 1): number | string => {
    const text = values.get(flag);
    if (text === undefined) return fallback;
    const n = Number(text);
    return Number.isInteger(n) && n >= minimum
      ? n
      : `${flag} must be a ${minimum > 0 ? 'positive' : 'non-negative'} integer, got '${text}'`;
  };
  const batch = count('--batch', 1);
  const seq = count('--seq', 2048);
  const newTokens = count('--new-tokens', 0, 0);
  const threads = values.has('--threads') ? count('--threads', 1) : undefined;
  for (const v of [batch, seq, newTokens, threads]) if (typeof v === 'string') return v;
  const target = values.get('--target') ?? 'cuda';
  if (target !== 'cuda' && target !== 'cpu') return `--target must be cuda or cpu, got '${target}'`;
  const run = runOptions({ values });
  if (typeof run === 'string') return run;
  const cpuOnly = RUN_OPTION_FLAGS.find((flag) => values.has(flag));
  if (cpuOnly !== undefined && target !== 'cpu') return `${cpuOnly} is the CPU engine's option: give it with --target cpu`;
  return {
    model: values.get('--model'),
    config: values.get('--config'),
    batch: batch as number,
    seq: seq as number,
    json,
    target,
    newTokens: newTokens as number,
    threads: threads as number | undefined,
    run,
  };
}

/** Reads the --config file; a job file also names its model, relative to the job file. */
function readConfig(path: string): { config: JsonObject; model: string | undefined } | string {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    return `${path}: cannot read a JSON config (${(e as Error).message}); give a quantization_config JSON, quantize_config.json, quant_config.json or *.quant.json file`;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return `${path}: expected a JSON object`;
  const config = value as JsonObject;
  const model = typeof config['model'] === 'string' ? join(dirname(path), config['model']) : undefined;
  return { config, model };
}

function table(rows: ReadonlyArray<readonly string[]>): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ')).join('\n') + '\n';
}

function humanEstimate(title: string, e: MemoryEstimate): string {
  const rows = [['component', 'count', 'bytes'], ...e.breakdown.map((l) => [l.label, String(l.count), humanBytes(l.bytes, 2)])];
  rows.push(['weights', '', humanBytes(e.weightsBytes, 2)], ['peak', '', humanBytes(e.peakBytes, 2)]);
  return `${title}\n${table(rows)}`;
}

function summary(e: MemoryEstimate): Record<string, unknown> {
  const { method, weightsBytes, kvCacheBytes, activationBytes, overheadBytes, peakBytes, breakdown } = e;
  return { method, weightsBytes, kvCacheBytes, activationBytes, overheadBytes, peakBytes, breakdown };
}

/** The CPU engine's worker: its threads as the engine picks them, the model folder's tokenizer when it has one. */
function cpuEstimate(model: ResolvedModel, config: JsonObject | undefined, args: EstimateArgs): Result<MemoryEstimate> {
  const tokenizer = model.folder === undefined ? undefined : statSync(join(model.folder, 'tokenizer.json'), { throwIfNoEntry: false });
  return estimateCpuMemory(model, config, {
    batch: args.batch,
    promptTokens: args.seq,
    newTokens: args.newTokens,
    threads: args.threads ?? engineThreads(cpus().length),
    tokenizerBytes: tokenizer?.isFile() ? tokenizer.size : 0,
    ...args.run,
  });
}

export const estimateCommand: Command = {
  name: 'estimate',
  summary: 'memory estimate (weights, KV cache, peak) of a model under a quantization config, or of every method',
  usage:
    'quantstudio estimate --model <dir|hub id> [--config <file>] [--batch N] [--seq N] [--target cuda|cpu] [--new-tokens N] [--threads N] [--kv-cache fp32|fp16] [--lm-head stored|int8] [--json]',
  async run(args) {
    const parsed = parseArgs(args);
    if (typeof parsed === 'string') return usageError(this, parsed);
    const read = parsed.config === undefined ? undefined : readConfig(parsed.config);
    if (typeof read === 'string') {
      process.stderr.write(`quantstudio estimate: ${read}\n`);
      return 1;
    }
    const modelRef = parsed.model ?? read?.model;
    if (modelRef === undefined) return usageError(this, '--model is required (or a job file --config that names its model)');
    const cacheDir = join(process.env['XDG_CACHE_HOME'] || join(homedir(), '.cache'), 'quantstudio', 'models');
    const resolution = await resolveModel(modelRef, { cacheDir });
    if (!resolution.ok) {
      process.stderr.write(`quantstudio estimate: ${formatModelError(resolution.error)}\n`);
      return 1;
    }
    if (resolution.stale) process.stderr.write(`quantstudio estimate: warning: ${formatModelError(resolution.stale)}\n`);
    const model = resolution.model;
    const options = { batch: parsed.batch, seq: parsed.seq };
    const estimate = parsed.target === 'cpu' ? cpuEstimate(model, read?.config, parsed) : estimateMemory(model, read?.config, options);
    const methods = read === undefined && parsed.target === 'cuda' ? compareMethods(model, options) : undefined;
    const failed = !estimate.ok ? estimate.error : methods && !methods.ok ? methods.error : undefined;
    if (failed || !estimate.ok) {
      process.stderr.write(`quantstudio estimate: ${failed ? formatModelError(failed) : 'estimate failed'}\n`);
      return 1;
    }
    const rows = methods?.ok ? methods.value : undefined;
    if (parsed.json) {
      const cpu = parsed.target === 'cpu' ? { newTokens: parsed.newTokens } : {};
      const out = {
        model: modelRef,
        source: model.source,
        revision: model.revision ?? null,
        target: parsed.target,
        batch: parsed.batch,
        seq: parsed.seq,
        ...cpu,
        ...summary(estimate.value),
      };
      const withMethods = rows ? { ...out, methods: rows.map((r) => ({ label: r.label, ...summary(r.estimate) })) } : out;
      process.stdout.write(`${JSON.stringify(withMethods, null, 2)}\n`);
      return 0;
    }
    const title =
      parsed.target === 'cpu'
        ? `${modelRef} (${model.source}) · CPU engine · batch ${parsed.batch} · prompt ${parsed.seq} + ${parsed.newTokens} new tokens`
        : `${modelRef} (${model.source}) · batch ${parsed.batch} · seq ${parsed.seq}`;
    if (!rows) {
      process.stdout.write(humanEstimate(`${title} · ${estimate.value.method}`, estimate.value));
      return 0;
    }
    // every column that adds up to the peak, overhead included, so a row can be checked by hand
    const sizes = (e: MemoryEstimate): string[] =>
      [e.weightsBytes, e.kvCacheBytes, e.activationBytes, e.overheadBytes, e.peakBytes].map((b) => humanBytes(b, 2));
    const compare = [
      ['method', 'weights', 'KV cache', 'activations', 'overhead', 'peak'],
      ...rows.map((r) => [r.label, ...sizes(r.estimate)]),
    ];
    process.stdout.write(`${title}\n${table(compare)}`);
    return 0;
  },
};
