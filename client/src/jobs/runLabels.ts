// How a saved run is named wherever runs are listed (Runs view, Open Run / Compare Runs quick picks): a
// label (kind + model), its key metric, its date and a detail text. No `vscode` import.
import * as path from 'path';
import { humanBytes } from '../../../native/model';
import type { RunResult } from './runner';

const fixed = (v: number | undefined, digits: number): string | undefined => (v === undefined ? undefined : v.toFixed(digits));

/** The model's folder name (or the Hub id), e.g. "tiny-llama". */
export function modelName(run: RunResult): string {
  return run.model.path
    ? path.basename(run.model.path)
    : run.model.ref
        .replace(/[\\/]+$/, '')
        .split(/[\\/]/)
        .pop() || run.model.ref;
}

/** "quantize · tiny-llama", "benchmark · tiny-llama · python" (a run of the python backend says so). */
export function runLabel(run: RunResult): string {
  return `${run.kind} · ${modelName(run)}${run.backend?.name === 'python' ? ' · python' : ''}`;
}

/** "Native engine", or "Python: gptqmodel 7.7.0, torch 2.15.0, transformers 5.23.0 on cuda (2 × NVIDIA H200) (/venv/bin/python)". */
export function backendLabel(backend: NonNullable<RunResult['backend']>): string {
  if (backend.name === 'engine') return 'Native engine';
  const libraries = Object.entries(backend.libraries ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, version]) => `${name} ${version}`);
  return `Python: ${libraries.join(', ')} on ${backend.device ?? 'an unknown device'}${gpusLabel(backend.gpus)} (${backend.interpreter ?? 'python3'})`;
}

/** " (NVIDIA H200)", " (2 × NVIDIA H200)", " (NVIDIA A100, NVIDIA H100)"; "" without GPUs. */
function gpusLabel(gpus: readonly string[] | undefined): string {
  if (!gpus || gpus.length === 0) return '';
  const names = [...new Set(gpus)];
  return names.length === 1 ? ` (${gpus.length > 1 ? `${gpus.length} × ` : ''}${names[0]})` : ` (${gpus.join(', ')})`;
}

/** The one number a run is remembered by, per kind; falls back to the duration. */
export function keyMetric(run: RunResult): string {
  const m = run.metrics;
  const byKind: Record<RunResult['kind'], () => string | undefined> = {
    quantize: () => {
      const ppl = fixed(m.perplexityAfter, 2);
      if (ppl !== undefined) return `ppl ${ppl}`;
      return run.output ? humanBytes(run.output.bytes) : undefined;
    },
    perplexity: () => (m.perplexity === undefined ? undefined : `ppl ${m.perplexity.toFixed(2)}`),
    generate: () => (m.tokensPerSecond === undefined ? undefined : `${m.tokensPerSecond.toFixed(1)} tok/s`),
    benchmark: () => {
      if (!run.rows || run.rows.length === 0) return undefined;
      const variants = new Set(run.rows.map((r) => r.variant)).size;
      const best = Math.max(...run.rows.map((r) => r.throughputTokensPerSecond));
      return `${variants} variant${variants === 1 ? '' : 's'}, up to ${best.toFixed(1)} tok/s`;
    },
    serving: () => {
      const levels = run.serving ?? [];
      if (levels.length === 0) return undefined;
      const best = Math.max(...levels.map((l) => l.outputTokensPerSecond));
      return `up to ${best.toFixed(1)} tok/s at concurrency ${levels.map((l) => l.concurrency).join('/')}`;
    },
  };
  return byKind[run.kind]() ?? `${run.durationSeconds.toFixed(1)} s`;
}

/** "2026-11-23 12:04" in the local time zone (runs are listed for the person who ran them). */
export function runDate(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}`;
}

/** "ppl 51.02 · 2026-11-23 12:04". */
export function runDescription(run: RunResult): string {
  return `${keyMetric(run)} · ${runDate(run.startedAt)}`;
}

/** The quantization method of a run's config, e.g. "gptq 4-bit g128"; undefined for fp16 runs. */
export function methodOf(config: RunResult['config']): string | undefined {
  if (!config) return undefined;
  const parts = [String(config.quant_method ?? 'unknown')];
  if (typeof config.bits === 'number') parts.push(`${config.bits}-bit`);
  else if (config.load_in_4bit === true) parts.push(String(config.bnb_4bit_quant_type ?? '4-bit'));
  else if (config.load_in_8bit === true) parts.push('int8');
  if (typeof config.group_size === 'number') parts.push(`g${config.group_size}`);
  return parts.join(' ');
}

/** Plain-text lines for a tooltip or a quick pick's detail. */
export function runDetails(run: RunResult, file: string): string[] {
  const lines = [`${run.kind} of ${run.model.path ?? run.model.ref}`];
  const method = methodOf(run.config);
  if (method) lines.push(`Method: ${method}`);
  lines.push(`Started ${runDate(run.startedAt)}, took ${run.durationSeconds.toFixed(1)} s`);
  lines.push(`${keyMetric(run)}`);
  if (run.output) lines.push(`Output: ${run.output.folder} (${humanBytes(run.output.bytes)})`);
  lines.push(`Engine ${run.environment.engineVersion}, ${run.environment.threads} threads, ${run.environment.cpu}`);
  lines.push(`File: ${file}`);
  return lines;
}
