// Number and name formatting shared by the panels: one place decides how a figure reads.
import * as path from 'path';
import { inMiB } from '../../../../native/model';
import { type RunResult, runDate } from '../../jobs';
import { escapeHtml } from './page';

export const DASH = '—';

export function fixedOr(value: number | null | undefined, digits: number, missing = DASH): string {
  return value === null || value === undefined || !Number.isFinite(value) ? missing : value.toFixed(digits);
}

/** `+1.23` / `-0.50` / `0.00`: a difference always shows its sign. */
export function signed(value: number | null | undefined, digits: number): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return DASH;
  const text = value.toFixed(digits);
  return value > 0 ? `+${text}` : text;
}

/** A table cell in MiB (native/model/units.ts), a dash when not measured. */
export function mib(bytes: number | null | undefined): string {
  return bytes === null || bytes === undefined || !Number.isFinite(bytes) ? DASH : inMiB(bytes);
}

/** The model's folder or hub id, last segment only ("tiny-llama" for examples/tiny-llama). */
export function modelName(run: Pick<RunResult, 'model'>): string {
  const ref = run.model.path ?? run.model.ref;
  return path.basename(ref.replace(/[\\/]+$/, '')) || ref;
}

const KIND_LABELS: Record<RunResult['kind'], string> = {
  quantize: 'Quantize',
  benchmark: 'Benchmark',
  generate: 'Generate',
  perplexity: 'Perplexity',
  serving: 'Serving Benchmark',
};

export function kindLabel(kind: RunResult['kind']): string {
  return KIND_LABELS[kind];
}

/** "QuantStudio: Benchmark — tiny-llama": the title tests and users find a panel by. */
export function panelTitle(kind: string, name: string): string {
  return `QuantStudio: ${kind} — ${name}`;
}

/** A run's time in the reader's time zone ("2026-11-23 12:04"), the exact instant kept in the element. */
export function localTime(iso: string): string {
  return `<time datetime="${escapeHtml(iso)}">${escapeHtml(runDate(iso))}</time>`;
}
