// compressed-tensors' quantization_config (compressed-tensors 0.19, written by llm-compressor 0.14) → the one
// weight scheme the runtime loads and the estimate sizes: int weights, 4 or 8 bits, group or channel strategy,
// no activation, KV-cache, sparsity or transform part, stored "pack-quantized". Anything else is named.
import { checkpointLayout } from './checkpointLayouts';
import type { JsonObject, JsonValue } from './types';

export interface CompressedTensorsScheme {
  bits: 4 | 8;
  /** -1 for the channel strategy (one scale per output row). */
  groupSize: number;
  symmetric: boolean;
  /** Modules kept dense: names or "re:" patterns, as compressed-tensors matches them. */
  ignore: string[];
}

/** The field that rules a config out and why, for an error naming it. */
export interface SchemeRefusal {
  field: string;
  message: string;
}

const isObject = (v: JsonValue | undefined): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);
const isEmpty = (v: JsonValue | undefined): boolean => v === undefined || v === null || (isObject(v) && Object.keys(v).length === 0);

type Read<T> = { ok: true; value: T } | { ok: false; refusal: SchemeRefusal };
const refuse = (field: string, message: string): Read<never> => ({ ok: false, refusal: { field, message } });

function weightScheme(group: string, w: JsonValue | undefined): Read<Omit<CompressedTensorsScheme, 'ignore'>> {
  const at = `config_groups.${group}.weights`;
  if (!isObject(w)) return refuse(at, 'is missing; the runtime loads weight-quantized (W4A16 / W8A16) checkpoints');
  if (w.type !== 'int') return refuse(`${at}.type`, `is ${JSON.stringify(w.type)} (fp8 / fp4 weights); the runtime loads int weights`);
  if (w.num_bits !== 4 && w.num_bits !== 8) return refuse(`${at}.num_bits`, `is ${JSON.stringify(w.num_bits)}; the runtime loads 4 and 8`);
  if (w.dynamic !== undefined && w.dynamic !== false)
    return refuse(`${at}.dynamic`, `is ${JSON.stringify(w.dynamic)}; the runtime loads static weight scales`);
  if (w.actorder === 'group')
    return refuse(`${at}.actorder`, 'is "group" (a stored column permutation); the runtime loads "weight" or none');
  const symmetric = w.symmetric !== false;
  if (w.strategy === 'channel') return { ok: true, value: { bits: w.num_bits, groupSize: -1, symmetric } };
  if (w.strategy !== 'group') return refuse(`${at}.strategy`, `is ${JSON.stringify(w.strategy)}; the runtime loads "group" and "channel"`);
  if (typeof w.group_size !== 'number' || !Number.isInteger(w.group_size) || w.group_size <= 0)
    return refuse(`${at}.group_size`, `is ${JSON.stringify(w.group_size)}; the group strategy needs a positive integer`);
  return { ok: true, value: { bits: w.num_bits, groupSize: w.group_size, symmetric } };
}

/** The scheme of a quantization_config whose quant_method is "compressed-tensors", or what rules it out. */
export function compressedTensorsScheme(q: JsonObject): Read<CompressedTensorsScheme> {
  const packing = checkpointLayout('ct-pack-quantized').packing;
  if (q.format !== packing) return refuse('format', `is ${JSON.stringify(q.format)}; the runtime loads ${JSON.stringify(packing)}`);
  if (q.quantization_status !== undefined && q.quantization_status !== 'compressed')
    return refuse('quantization_status', `is ${JSON.stringify(q.quantization_status)}; the runtime loads "compressed" checkpoints`);
  if (!isEmpty(q.sparsity_config))
    return refuse('sparsity_config', 'is set (a sparse format); the runtime loads dense pack-quantized weights');
  if (!isEmpty(q.transform_config)) return refuse('transform_config', 'is set (rotations applied at run time); the runtime has none');
  if (!isEmpty(q.kv_cache_scheme)) return refuse('kv_cache_scheme', 'is set (KV-cache quantization); the runtime keeps the cache in fp32');
  const groups = isObject(q.config_groups) ? Object.entries(q.config_groups) : [];
  if (groups.length === 0) return refuse('config_groups', 'is missing or empty; it holds the weight scheme');
  let scheme: Omit<CompressedTensorsScheme, 'ignore'> | undefined;
  for (const [name, g] of groups) {
    if (!isObject(g)) return refuse(`config_groups.${name}`, 'is not an object');
    if (g.format !== undefined && g.format !== null && g.format !== packing)
      return refuse(`config_groups.${name}.format`, `is ${JSON.stringify(g.format)}; the runtime loads ${JSON.stringify(packing)}`);
    for (const part of ['input_activations', 'output_activations'])
      if (!isEmpty(g[part]))
        return refuse(
          `config_groups.${name}.${part}`,
          'is set (activation quantization, e.g. W8A8); the runtime loads weight-only schemes',
        );
    const read = weightScheme(name, g.weights);
    if (!read.ok) return read;
    if (scheme && JSON.stringify(scheme) !== JSON.stringify(read.value))
      return refuse(`config_groups.${name}.weights`, `differs from ${groups[0][0]}'s (mixed precision); the runtime loads one scheme`);
    scheme = read.value;
  }
  const ignore = Array.isArray(q.ignore) ? q.ignore.filter((s): s is string => typeof s === 'string') : [];
  return { ok: true, value: { ...scheme!, ignore } };
}
