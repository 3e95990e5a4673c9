// `quantstudio quantize <job.quant.json> | --model <dir|hub id> --config <file> --out <dir> [--calib wikitext2|<file>]
// [--algorithm rtn] [--backend engine|python] [--python <interpreter>] [--format compressed-tensors] [--overwrite] [--json]`:
// quantizes a model folder into a checkpoint that transformers, GPTQModel/AutoAWQ or bitsandbytes load (with --format
// compressed-tensors, llm-compressor's on the python backend, as vLLM loads it). A job file can also ask for
// perplexity before/after and a sample. The python backend runs in --python, else python3 on PATH.
import { humanBytes } from '../../../../native/model';
import type { Command } from '../command';
import { usageError } from '../command';
import { BACKEND_FLAGS, BACKEND_USAGE, backendOptions, parseFlags } from '../flags';
import { DEFAULT_MAX_SHARD_BYTES, jobFromJobFile, quantizationConfigOf, readJsonObject } from '../../jobs';
import { runCliJob } from '../runJob';
import type { Job, RunResult } from '../../jobs';

function summary(run: RunResult): string {
  const m = run.metrics;
  const lines = [`wrote ${run.output?.folder} (${humanBytes(run.output?.bytes ?? 0, 2)}) in ${(m.quantizeSeconds ?? 0).toFixed(1)} s`];
  const a = run.allocation;
  if (a) {
    const widened = a.layers.filter((l) => l.widened).map((l) => l.layer);
    const which =
      widened.length === 0 ? 'no layer fits the budget' : `${widened.join(', ')} at ${a.wideBits} bits, the rest at ${a.baseBits}`;
    lines.push(`mixed precision: ${which}: ${a.bitsPerWeight.toFixed(2)} bits per weight (budget ${a.target})`);
  }
  const tuned = (run.layers ?? []).flatMap((l) => (l.signRound ? [l.signRound] : []));
  if (tuned.length > 0) {
    const kept = tuned.reduce((sum, t) => sum + t.bestLoss / t.startLoss, 0) / tuned.length;
    lines.push(`signRound: each layer's output error ${((1 - kept) * 100).toFixed(1)} % below round-to-nearest's on average`);
  }
  if (m.perplexityBefore !== undefined) lines.push(`perplexity before ${m.perplexityBefore.toFixed(4)}`);
  if (m.perplexityAfter !== undefined) {
    const delta = m.perplexityDelta !== undefined ? ` (${m.perplexityDelta >= 0 ? '+' : ''}${m.perplexityDelta.toFixed(4)})` : '';
    lines.push(`perplexity after  ${m.perplexityAfter.toFixed(4)}${delta} over ${m.evaluationTokens} tokens`);
  }
  return lines.join('\n') + '\n';
}

export const quantizeCommand: Command = {
  name: 'quantize',
  summary: 'quantize a model folder into a GPTQ, AWQ or bitsandbytes checkpoint',
  usage:
    'quantstudio quantize <job.quant.json> | --model <dir|hub id> --config <file> --out <dir> [--calib wikitext2|<file>] [--algorithm rtn]' +
    ` ${BACKEND_USAGE} [--format compressed-tensors] [--overwrite] [--json]`,
  async run(args) {
    const flags = parseFlags(args, {
      values: ['--model', '--config', '--out', '--calib', '--algorithm', '--format', ...BACKEND_FLAGS],
      switches: ['--json', '--overwrite'],
      positional: 1,
    });
    if (typeof flags === 'string') return usageError(this, flags);
    let job: Job;
    const [jobFile] = flags.positional;
    if (jobFile !== undefined) {
      if (flags.values.has('--model') || flags.values.has('--config'))
        return usageError(this, 'give either a job file or --model/--config, not both');
      const fromFile = jobFromJobFile(jobFile);
      if (typeof fromFile === 'string') return usageError(this, fromFile);
      job = fromFile;
      if (flags.values.has('--out')) job.options.out = flags.values.get('--out');
    } else {
      const [model, configFile, out] = ['--model', '--config', '--out'].map((f) => flags.values.get(f));
      if (!model || !configFile || !out) return usageError(this, 'give a job file, or all of --model, --config and --out');
      const value = readJsonObject(configFile);
      if (typeof value === 'string') return usageError(this, value);
      const config = quantizationConfigOf(configFile, value);
      if (typeof config === 'string') return usageError(this, config);
      job = { kind: 'quantize', model, config, options: { out, maxShardBytes: DEFAULT_MAX_SHARD_BYTES } };
    }
    const calib = flags.values.get('--calib');
    if (calib !== undefined) job.options.calibration = { ...(job.options.calibration as object | undefined), dataset: calib };
    const algorithm = flags.values.get('--algorithm');
    if (algorithm !== undefined) job.options.algorithm = algorithm;
    if (flags.switches.has('--overwrite')) job.options.overwrite = true;
    const format = flags.values.get('--format');
    if (format !== undefined) job.options.format = format; // the worker names a value it does not know
    Object.assign(job.options, backendOptions(flags));

    const json = flags.switches.has('--json');
    let sampled = false;
    const sample = (job.options.generate as { prompt?: string } | undefined)?.prompt;
    const run = await runCliJob(this.name, job, {
      onToken: json
        ? undefined
        : (text) => {
            if (!sampled) process.stdout.write(`sample: ${sample ?? ''}`);
            sampled = true;
            process.stdout.write(text);
          },
    });
    if (!run) return 1;
    if (json) process.stdout.write(JSON.stringify(run, null, 2) + '\n');
    else process.stdout.write((sampled ? '\n' : '') + summary(run));
    return 0;
  },
};
