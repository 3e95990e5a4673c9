// `quantstudio recommend <dir|hub id> (--budget <size> | --device <id>) [--target <deployment target>] [--seq N] [--json]
// [--write <job.quant.json>] [--pick <id>] [--overwrite] [--evaluate N]`: every quantization of the measured quality
// table sized for the model and ranked (native/model/advisor.ts), each prediction with what it rests on; --write
// writes the job file of the first pick (or of --pick), --evaluate quantizes the first N picks with a short
// perplexity each, and of the model as it is.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  advise,
  DEPLOYMENT_TARGETS,
  DEVICES,
  deviceById,
  formatModelError,
  humanBytes,
  isDeploymentTarget,
  parseBudget,
  QUALITY_TABLE,
  resolveModel,
  signedFigure,
  THIS_MACHINE,
} from '../../../../native/model';
import type { Advice, AdviceRequest } from '../../../../native/model';
import { EVALUATE_TOKENS, evaluatedOf, evaluationJobs, pickJobText, runnablePicks } from '../../jobs';
import type { Evaluated } from '../../jobs';
import type { Command } from '../command';
import { usageError } from '../command';
import { parseFlags, positiveInteger } from '../flags';
import { runCliJob } from '../runJob';

function request(values: Map<string, string>, seq: number): AdviceRequest | string {
  const budget = values.get('--budget');
  const deviceId = values.get('--device');
  if ((budget === undefined) === (deviceId === undefined)) return 'give one of --budget <size> or --device <id>';
  const target = values.get('--target');
  if (target !== undefined && !isDeploymentTarget(target))
    return `--target must be one of ${DEPLOYMENT_TARGETS.join(', ')}, got '${target}'`;
  const base = { seq, ...(target === undefined ? {} : { target }) };
  if (budget !== undefined) {
    const bytes = parseBudget(budget);
    return typeof bytes === 'string' ? `--budget: ${bytes}` : { ...base, budgetBytes: bytes, budgetLabel: `budget ${budget}` };
  }
  const device = deviceById(deviceId!);
  if (!device) return `--device must be one of ${[...DEVICES.map((d) => d.id), THIS_MACHINE].join(', ')}, got '${deviceId}'`;
  return {
    ...base,
    budgetBytes: device.memoryBytes,
    budgetLabel: `${device.label}: ${device.source}`,
    ...(device.bandwidthBytesPerSecond === undefined ? {} : { bandwidthBytesPerSecond: device.bandwidthBytesPerSecond }),
  };
}

function table(rows: ReadonlyArray<readonly string[]>): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return (
    rows
      .map((r) =>
        r
          .map((cell, c) => cell.padEnd(widths[c]!))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}

function humanAdvice(model: string, req: AdviceRequest, rows: readonly Advice[]): string {
  const header = ['#', 'method', 'bits', 'peak', 'fits', 'ppl vs fp16', 'decode tok/s ≤', ...(req.target ? [req.target] : []), 'why here'];
  const body = rows.map((a) => [
    String(a.rank),
    a.label,
    String(a.bits),
    humanBytes(a.estimate.peakBytes),
    a.fits ? 'yes' : 'no',
    `${signedFigure(a.perplexityDeltaPercent)} %`,
    a.tokensPerSecond === undefined ? '?' : a.tokensPerSecond.toFixed(0),
    ...(req.target ? [a.kernel ? `${a.kernel.kernel} (${a.kernel.path})` : a.row.config ? 'no rule' : 'as stored'] : []),
    a.why,
  ]);
  const first = rows[0]!;
  return (
    `${model} · ${req.budgetLabel} · ${humanBytes(req.budgetBytes)} · context ${req.seq}\n${table([header, ...body])}\n` +
    `What the predictions rest on (the first row's):\n  memory:  ${first.basis.memory}\n  quality: ${first.basis.quality}\n` +
    `  speed:   ${first.basis.speed}\n${first.basis.deployment ? `  deploy:  ${first.basis.deployment}\n` : ''}` +
    `Quality is measured on the ${QUALITY_TABLE.model} demo model only (native/model/quantQuality.json): it orders the methods, ` +
    `it does not predict this model's perplexity.\n`
  );
}

function writeJob(pick: Advice, file: string, modelRef: string, overwrite: boolean): string | undefined {
  if (existsSync(file) && !overwrite) return `${file} exists; give --overwrite to replace it`;
  writeFileSync(file, pickJobText(pick, file, modelRef));
  return undefined;
}

async function evaluate(picks: readonly Advice[], modelRef: string): Promise<Evaluated[] | undefined> {
  const scratch = mkdtempSync(join(tmpdir(), 'qs-recommend-'));
  try {
    const jobs = evaluationJobs(picks, modelRef, scratch);
    const metrics = [];
    for (const [i, job] of jobs.entries()) {
      process.stderr.write(`evaluating ${picks[i]!.label}\n`);
      const run = await runCliJob('recommend', job);
      if (!run) return undefined;
      metrics.push(run.metrics);
    }
    return evaluatedOf(picks, metrics);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

export const recommendCommand: Command = {
  name: 'recommend',
  summary: 'rank quantizations of a model for a memory budget or device by measured quality, memory and speed',
  usage:
    'quantstudio recommend <dir|hub id> (--budget <size, e.g. 6GiB> | --device <id>) [--target vllm|tgi|…] [--seq N] [--json] ' +
    `[--write <job.quant.json> [--pick <id>] [--overwrite]] [--evaluate N]  (devices: ${[...DEVICES.map((d) => d.id), THIS_MACHINE].join(', ')})`,
  async run(args) {
    const flags = parseFlags(args, {
      values: ['--budget', '--device', '--target', '--seq', '--write', '--pick', '--evaluate'],
      switches: ['--json', '--overwrite'],
      positional: 1,
    });
    if (typeof flags === 'string') return usageError(this, flags);
    const [modelRef] = flags.positional;
    if (modelRef === undefined) return usageError(this, 'give the model folder or Hub id');
    const seq = positiveInteger(flags, '--seq', 2048);
    if (typeof seq === 'string') return usageError(this, seq);
    const evaluateCount = positiveInteger(flags, '--evaluate');
    if (typeof evaluateCount === 'string') return usageError(this, evaluateCount);
    const req = request(flags.values, seq as number);
    if (typeof req === 'string') return usageError(this, req);
    const pickId = flags.values.get('--pick');
    if (pickId !== undefined && !QUALITY_TABLE.rows.some((r) => r.id === pickId && r.config))
      return usageError(
        this,
        `--pick must be one of ${QUALITY_TABLE.rows
          .filter((r) => r.config)
          .map((r) => r.id)
          .join(', ')}, got '${pickId}'`,
      );

    const cacheDir = join(process.env['XDG_CACHE_HOME'] || join(homedir(), '.cache'), 'quantstudio', 'models');
    const resolution = await resolveModel(modelRef, { cacheDir });
    if (!resolution.ok) {
      process.stderr.write(`quantstudio recommend: ${formatModelError(resolution.error)}\n`);
      return 1;
    }
    const advice = advise(resolution.model, req);
    if (!advice.ok) {
      process.stderr.write(`quantstudio recommend: ${formatModelError(advice.error)}\n`);
      return 1;
    }
    const rows = advice.value;
    const picks = runnablePicks(rows);
    const write = flags.values.get('--write');
    let written: string | undefined;
    if (write !== undefined) {
      const pick = pickId === undefined ? picks[0] : rows.find((a) => a.id === pickId)!;
      if (!pick) {
        process.stderr.write(`quantstudio recommend: nothing fits in ${humanBytes(req.budgetBytes)}; no job file written\n`);
        return 1;
      }
      const refused = writeJob(pick, write, modelRef, flags.switches.has('--overwrite'));
      if (refused) {
        process.stderr.write(`quantstudio recommend: ${refused}\n`);
        return 1;
      }
      written = resolve(write);
    }
    let evaluated: Evaluated[] | undefined;
    if (evaluateCount !== undefined) {
      evaluated = await evaluate(picks.slice(0, evaluateCount as number), modelRef);
      if (!evaluated) return 1;
    }
    if (flags.switches.has('--json')) {
      const out = rows.map(({ row: _row, estimate, ...rest }) => ({
        ...rest,
        peakBytes: estimate.peakBytes,
        weightsBytes: estimate.weightsBytes,
      }));
      const summary = {
        model: modelRef,
        budgetBytes: req.budgetBytes,
        budget: req.budgetLabel,
        seq: req.seq,
        target: req.target ?? null,
        candidates: out,
        written: written ?? null,
        evaluated: evaluated ?? null,
      };
      process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      return 0;
    }
    process.stdout.write(humanAdvice(modelRef, req, rows));
    if (written) process.stdout.write(`wrote ${written}\n`);
    for (const e of evaluated ?? [])
      process.stdout.write(
        `evaluated ${e.id}: perplexity ${e.perplexity?.toFixed(4) ?? '—'} over ${EVALUATE_TOKENS} WikiText-2 test tokens\n`,
      );
    return 0;
  },
};
