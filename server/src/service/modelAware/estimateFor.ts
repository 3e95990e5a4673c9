// The memory estimate of one config site against its resolved model, with the figures the lens and the
// hover show. The site's literal entries become the config object estimateMemory reads.
import { compareMethods, estimateMemory, estimateWithSettings } from '../../../../native/lib/model';
import type { EstimateOptions, JsonObject, JsonValue, MemoryEstimate, ResolvedModel } from '../../../../native/lib/model';
import type { ConfigSite } from '../model';

export interface EstimateSettings {
  batchSize: number;
  contextLength: number;
}

export interface SiteEstimate {
  model: string;
  batch: number;
  seq: number;
  estimate: MemoryEstimate;
  /** The same model unquantized, as stored (fp16 for the usual checkpoints). */
  asStored: MemoryEstimate;
  methods: Array<{ label: string; estimate: MemoryEstimate }>;
}

/** A site's literal entries as a config object; the method comes from the call class when the file does not say. */
export function configObjectOf(site: ConfigSite): JsonObject {
  const config: JsonObject = {};
  for (const e of site.entries) if (e.value !== undefined) config[e.key] = e.value as JsonValue; // last duplicate wins, as json.load
  if (!('quant_method' in config) && typeof site.method === 'string') config['quant_method'] = site.method;
  return config;
}

export function estimateSite(site: ConfigSite, model: ResolvedModel, settings: EstimateSettings): SiteEstimate | undefined {
  const options: EstimateOptions = { batch: settings.batchSize, seq: settings.contextLength };
  const estimate = estimateMemory(model, configObjectOf(site), options);
  const asStored = estimateWithSettings(model, { method: 'none' }, options);
  const methods = compareMethods(model, options);
  if (!estimate.ok || !asStored.ok || !methods.ok) return undefined;
  return { model: model.ref, batch: settings.batchSize, seq: settings.contextLength, estimate: estimate.value, asStored: asStored.value, methods: methods.value };
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** 4_089_446 → "3.9 MiB": binary units, one decimal. */
export function humanBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${UNITS[unit]}`;
}

/** 2048 → "2k", 1000 → "1000". */
export function contextLabel(tokens: number): string {
  return tokens % 1024 === 0 ? `${tokens / 1024}k` : String(tokens);
}

/** "≈ 3.9 MiB weights · 12.1 MiB peak @ bs1, 2k ctx" */
export function lensTitle(e: SiteEstimate): string {
  return `≈ ${humanBytes(e.estimate.weightsBytes)} weights · ${humanBytes(e.estimate.peakBytes)} peak @ bs${e.batch}, ${contextLabel(e.seq)} ctx`;
}
