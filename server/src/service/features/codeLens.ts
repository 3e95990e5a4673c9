// Code lenses: on each quantization config, the memory estimate's total for the target model, or why there is none (its command,
// quantstudio.showEstimate, carries the whole estimate, so a client can show the breakdown); on a job file
// (*.quant.json), the commands that run it, above its top-level object.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CodeLens } from 'vscode-languageserver-types';
import type { ConfigSite, Range } from '../model';
import type { ParsedDocument } from '../parse/document';
import { COMMANDS } from '../../protocol';
import type { JobLensArgs } from '../../protocol';
import type { SiteEstimateResult } from '../modelAware/estimateFor';
import { lensTitle } from '../modelAware/estimateFor';

/** Where a site's lens and estimate hover sit: the quantization_config key, else the object's brace / the call's class name. */
export function estimateAnchor(doc: ParsedDocument, site: ConfigSite): Range {
  if (doc.kind === 'model-config' || doc.kind === 'job') return doc.rangeOf(undefined, ['quantization_config'], 'key') ?? site.anchorRange;
  return site.anchorRange;
}

export function codeLenses(doc: ParsedDocument, estimates: ReadonlyArray<{ site: ConfigSite; estimate: SiteEstimateResult }>): CodeLens[] {
  return estimates.map(({ site, estimate }) => ({
    range: estimateAnchor(doc, site),
    command: { title: lensTitle(estimate), command: COMMANDS.showEstimate, arguments: [estimate] },
  }));
}

/** The lenses above a job file's top-level object: title and the client command each runs with { uri }. */
export const JOB_COMMAND_LENSES: ReadonlyArray<{ title: string; command: string }> = [
  { title: '▶ Quantize', command: COMMANDS.quantize },
  { title: 'Benchmark', command: COMMANDS.benchmark },
  { title: 'Generate', command: COMMANDS.generate },
];

/** Job command lenses for a job file whose top level is an object; none for other files. */
export function jobCommandLenses(doc: ParsedDocument, uri: string): CodeLens[] {
  if (doc.kind !== 'job' || typeof doc.documentValue !== 'object' || doc.documentValue === null || Array.isArray(doc.documentValue))
    return [];
  const whole = doc.rangeOf(undefined, [], 'value');
  if (!whole) return [];
  // on the opening brace's line only: a lens range spanning the whole file would sit oddly in some clients
  const range: Range = { start: whole.start, end: whole.start };
  const model = modelArgument(doc, uri);
  return JOB_COMMAND_LENSES.map(({ title, command }) => {
    const args: JobLensArgs = command === COMMANDS.generate && model ? { model, uri } : { uri };
    return { range, command: { title, command, arguments: [args] } };
  });
}

/** Generate runs a model, not a job file: the job's model folder (relative to the file) when it names one. */
function modelArgument(doc: ParsedDocument, uri: string): string | undefined {
  const model = (doc.documentValue as { model?: unknown }).model;
  if (typeof model !== 'string' || model === '' || !uri.startsWith('file:')) return undefined;
  try {
    return resolve(dirname(fileURLToPath(uri)), model);
  } catch {
    return undefined;
  }
}
