// The memory estimate of one config site against its resolved model, with the figures the lens and the
// hover show. The site's literal entries become the config object estimateMemory reads. A job file runs on
// our CPU engine, so its estimate is the job worker's (estimateCpu); every other config is for transformers
// on a GPU. When there is no estimate, the lens says why instead of vanishing.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import {
  architectureOf,
  COMPARED_METHODS,
  contextLabel,
  estimateCpuWithSettings,
  estimateWithSettings,
  humanBytes,
  quantSettingsRead,
} from '../../../../native/model';
import { quantizeJobSummary } from '../../../../native/model';
import type {
  JsonObject,
  JsonValue,
  MemoryEstimate,
  ModelError,
  QuantizeJobEstimate,
  QuantSettings,
  ResolvedModel,
  Result,
} from '../../../../native/model';
import { quantizeJobFor } from './quantizeJobFor';
import type { ConfigSite } from '../model';

export interface EstimateSettings {
  batchSize: number;
  contextLength: number;
  /** Threads of the CPU engine a job runs with (job files' estimates); 0 = one per hardware thread, as the engine picks. */
  threads: number;
}

/** 'gpu': transformers on a GPU (config.json, Python, quantize_config.json); 'cpu': our engine's job worker (job files). */
export type EstimateTarget = 'gpu' | 'cpu';

export interface SiteEstimate {
  model: string;
  target: EstimateTarget;
  batch: number;
  seq: number;
  /** Why seq is not the context length asked for ("model max": capped at max_position_embeddings). */
  seqNote?: string;
  /** Values the config leaves out or writes with the wrong type, and what the estimate took instead. */
  assumed: string[];
  estimate: MemoryEstimate;
  /** The same model unquantized, as stored (fp16 for the usual checkpoints). */
  asStored: MemoryEstimate;
  methods: Array<{ label: string; estimate: MemoryEstimate }>;
  /** A job file's own quantize run: its peak RSS and wall time on this machine. */
  quantizeJob?: QuantizeJobEstimate;
}

/** A config the estimate cannot take (bits: 5, an unsupported method): the reason, shown in place of the figures. */
export interface NoEstimate {
  model: string;
  reason: string;
}

export type SiteEstimateResult = SiteEstimate | NoEstimate;

export const hasEstimate = (e: SiteEstimateResult): e is SiteEstimate => 'estimate' in e;

/** A site's literal entries as a config object; the method comes from the call class when the file does not say. */
export function configObjectOf(site: ConfigSite): JsonObject {
  const config: JsonObject = {};
  for (const e of site.entries) if (e.value !== undefined) config[e.key] = e.value as JsonValue; // last duplicate wins, as json.load
  if (!('quant_method' in config) && typeof site.method === 'string') config['quant_method'] = site.method;
  return config;
}

const why = (error: ModelError): string => `${error.message} (${error.hint})`;

/** The tokenizer.json a job worker would load from the model folder (0 when there is none). */
function tokenizerBytes(model: ResolvedModel): number {
  const file = model.folder === undefined ? undefined : statSync(join(model.folder, 'tokenizer.json'), { throwIfNoEntry: false });
  return file?.isFile() ? file.size : 0;
}

/** A job file's content and path, for its own quantize run's estimate. */
export interface JobDocument {
  value: JsonObject;
  file: string | undefined;
}

export function estimateSite(
  site: ConfigSite,
  model: ResolvedModel,
  settings: EstimateSettings,
  target: EstimateTarget = 'gpu',
  job?: JobDocument,
): SiteEstimateResult {
  const unread = new Map(site.entries.filter((e) => e.value === undefined).map((e) => [e.key, e.valueText]));
  const read = quantSettingsRead(configObjectOf(site), 'quantization config', unread);
  if (!read.ok) return { model: model.ref, reason: why(read.error) };
  const arch = architectureOf(model.config, `${model.ref}/config.json`);
  if (!arch.ok) return { model: model.ref, reason: why(arch.error) };
  const maxPositions = arch.value.maxPositions;
  const capped = maxPositions !== undefined && settings.contextLength > maxPositions;
  const seq = capped ? maxPositions : settings.contextLength;
  const estimateOf = (s: QuantSettings): Result<MemoryEstimate> =>
    target === 'cpu'
      ? estimateCpuWithSettings(model, s, {
          batch: settings.batchSize,
          promptTokens: seq,
          newTokens: 0,
          threads: settings.threads,
          tokenizerBytes: tokenizerBytes(model),
        })
      : estimateWithSettings(model, s, { batch: settings.batchSize, seq });
  const estimate = estimateOf(read.value.settings);
  if (!estimate.ok) return { model: model.ref, reason: why(estimate.error) };
  const asStored = estimateOf({ method: 'none' });
  if (!asStored.ok) return { model: model.ref, reason: why(asStored.error) };
  const methods: SiteEstimate['methods'] = [];
  for (const { label, settings: s } of COMPARED_METHODS) {
    const m = estimateOf(s);
    if (m.ok) methods.push({ label, estimate: m.value });
  }
  const machine = { threads: settings.threads, tokenizerBytes: tokenizerBytes(model) };
  const quantizeJob = job === undefined ? undefined : quantizeJobFor(job.value, job.file, model, read.value.settings, machine);
  return {
    ...(quantizeJob === undefined ? {} : { quantizeJob }),
    model: model.ref,
    target,
    batch: settings.batchSize,
    seq,
    ...(capped ? { seqNote: 'model max' } : {}),
    assumed: read.value.assumed,
    estimate: estimate.value,
    asStored: asStored.value,
    methods,
  };
}

/** What the lens and the hover headline call the context: "2k", or "512 (model max)". */
export function contextOf(e: SiteEstimate): string {
  return e.seqNote ? `${contextLabel(e.seq)} (${e.seqNote})` : contextLabel(e.seq);
}

/**
 * "≈ 3.9 MiB weights · 12.1 MiB peak @ bs1, 2k ctx"; a job file's "… peak RSS on the CPU engine …" then its quantize
 * run's "· quantizing: ≈ 1.4 GiB peak RSS · ≈ 3.2 min on 2 threads"; with
 * " · assumed bits 4 (…)" when the config did not say; "No memory estimate: <reason>" when there is none.
 */
export function lensTitle(e: SiteEstimateResult): string {
  if (!hasEstimate(e)) return `No memory estimate: ${e.reason}`;
  const peak = e.target === 'cpu' ? 'peak RSS on the CPU engine' : 'peak';
  const assumed = e.assumed.length > 0 ? ` · assumed ${e.assumed.join(', ')}` : '';
  const run = e.quantizeJob ? ` · quantizing: ${quantizeJobSummary(e.quantizeJob)}` : '';
  return `≈ ${humanBytes(e.estimate.weightsBytes)} weights${bitsPerWeightLabel(e)} · ${humanBytes(e.estimate.peakBytes)} ${peak} @ bs${e.batch}, ${contextOf(e)} ctx${assumed}${run}`;
}

/** " (4.16 bits/weight)": what the quantized Linears are stored in, codes, scales, zeros and g_idx together. */
export function bitsPerWeightLabel(e: SiteEstimate): string {
  return e.estimate.bitsPerWeight === undefined ? '' : ` (${e.estimate.bitsPerWeight.toFixed(2)} bits/weight)`;
}
