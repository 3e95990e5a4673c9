// A PEFT LoRA adapter's adapter_config.json as the runtime applies it (peft 0.21.2: LoraConfig in
// tuners/lora/config.py, the scaling in tuners/lora/layer.py update_layer, the per-module patterns in
// utils/other.py get_pattern_key). Pure: the caller reads the file; every refusal names the key.

export interface LoraConfig {
  r: number;
  loraAlpha: number;
  useRslora: boolean;
  targetModules: string[];
  rankPattern: [string, number][];
  alphaPattern: [string, number][];
}

/** What a module runs with: its rank and scaling after the rank/alpha patterns. */
export interface LoraModuleScale {
  rank: number;
  scale: number;
}

/** What a run result records of an applied adapter: the folder's name, never its path. */
export interface AdapterRecord {
  name: string;
  rank: number;
  alpha: number;
  rslora: boolean;
  targetModules: string[];
  /** Modules the adapter file adapts. */
  modules: number;
}

export class LoraConfigError extends Error {}

// Keys of features the runtime does not compute, refused when set (null, false, [] and {} mean unset).
const REFUSED: [key: string, what: string][] = [
  ['use_dora', 'DoRA (weight-decomposed LoRA)'],
  ['lora_bias', 'a LoRA bias on lora_B'],
  ['modules_to_save', 'fully trained extra modules (modules_to_save)'],
  ['fan_in_fan_out', 'transposed (Conv1D-style) weights'],
  ['target_parameters', 'LoRA on parameters rather than modules'],
  ['trainable_token_indices', 'trainable tokens'],
  ['layer_replication', 'layer replication'],
  ['alora_invocation_tokens', 'activated LoRA (aLoRA)'],
  ['use_qalora', 'QA-LoRA'],
  ['use_bdlora', 'BD-LoRA'],
];

function isSet(v: unknown): boolean {
  if (v === null || v === undefined || v === false) return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

function positiveInteger(v: unknown, where: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw new LoraConfigError(`${where} must be a positive integer`);
  return v;
}

function finiteNumber(v: unknown, where: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new LoraConfigError(`${where} must be a number`);
  return v;
}

function pattern(v: unknown, key: string, read: (x: unknown, where: string) => number): [string, number][] {
  if (v === undefined || v === null) return [];
  if (typeof v !== 'object' || Array.isArray(v)) throw new LoraConfigError(`${key} must be an object of module patterns`);
  return Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, read(x, `${key}["${k}"]`)]);
}

/** The config as the runtime runs it; throws LoraConfigError naming the key it cannot honour. */
export function parseLoraConfig(json: unknown): LoraConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new LoraConfigError('not a JSON object');
  const c = json as Record<string, unknown>;
  if (c.peft_type !== 'LORA') throw new LoraConfigError(`peft_type is ${JSON.stringify(c.peft_type)}; only "LORA" adapters are supported`);
  for (const [key, what] of REFUSED) {
    if (isSet(c[key])) throw new LoraConfigError(`${key}: ${what} is not supported`);
  }
  if (c.bias !== undefined && c.bias !== 'none') {
    throw new LoraConfigError(`bias is ${JSON.stringify(c.bias)}; only "none" is supported (the adapter would train biases)`);
  }
  const targets = c.target_modules;
  let targetModules: string[];
  if (typeof targets === 'string') targetModules = [targets];
  else if (Array.isArray(targets) && targets.every((t) => typeof t === 'string')) targetModules = [...(targets as string[])].sort();
  else throw new LoraConfigError('target_modules must be a list of module names or a regex string');
  return {
    r: positiveInteger(c.r, 'r'),
    loraAlpha: finiteNumber(c.lora_alpha, 'lora_alpha'),
    useRslora: c.use_rslora === true,
    targetModules,
    rankPattern: pattern(c.rank_pattern, 'rank_pattern', positiveInteger),
    alphaPattern: pattern(c.alpha_pattern, 'alpha_pattern', finiteNumber),
  };
}

/** PEFT's get_pattern_key: the first key that matches the end of the module name at a dot boundary, as a regex. */
export function patternKey(keys: string[], module: string): string | undefined {
  return keys.find((key) => new RegExp(`^(.*\\.)?(${key})$`).test(module));
}

/** Rank and scaling of one module: lora_alpha / r, or lora_alpha / √r with use_rslora. */
export function loraModuleScale(config: LoraConfig, module: string): LoraModuleScale {
  const rankKey = patternKey(
    config.rankPattern.map(([k]) => k),
    module,
  );
  const alphaKey = patternKey(
    config.alphaPattern.map(([k]) => k),
    module,
  );
  const rank = rankKey === undefined ? config.r : config.rankPattern.find(([k]) => k === rankKey)![1];
  const alpha = alphaKey === undefined ? config.loraAlpha : config.alphaPattern.find(([k]) => k === alphaKey)![1];
  return { rank, scale: config.useRslora ? alpha / Math.sqrt(rank) : alpha / rank };
}

/** The module a saved adapter tensor belongs to and which factor it is; null for any other tensor. */
export function loraTensorModule(name: string): { module: string; factor: 'A' | 'B' } | null {
  const m = /^base_model\.model\.(.+)\.lora_([AB])\.weight$/.exec(name);
  return m ? { module: m[1], factor: m[2] as 'A' | 'B' } : null;
}
