// The memory estimate of one config site against its resolved model, with the figures the lens and the
// hover show. The site's literal entries become the config object estimateMemory reads.
import { compareMethods, contextLabel, estimateMemory, estimateWithSettings, humanBytes } from '../../../../native/model';
import type { EstimateOptions, JsonObject, JsonValue, MemoryEstimate, ResolvedModel } from '../../../../native/model';
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

/** "≈ 3.9 MiB weights · 12.1 MiB peak @ bs1, 2k ctx" */
export function lensTitle(e: SiteEstimate): string {
  return `≈ ${humanBytes(e.estimate.weightsBytes)} weights · ${humanBytes(e.estimate.peakBytes)} peak @ bs${e.batch}, ${contextLabel(e.seq)} ctx`;
}
