// A quantization_config (any spelling quantConfig.ts reads) → the settings the deployment tables read,
// with the library defaults of QUANT_DEFAULTS for what it leaves out.
import { QUANT_DEFAULTS, quantizationConfigOf } from './quantConfig';
import type { DeploySettings } from './deployTypes';
import type { JsonObject, JsonValue } from './types';

const pick = (c: JsonObject, keys: readonly string[]): JsonValue | undefined => keys.map((k) => c[k]).find((v) => v !== undefined);
const num = (v: JsonValue | undefined, fallback: number): number => (typeof v === 'number' ? v : fallback);
const bool = (v: JsonValue | undefined, fallback: boolean): boolean => (typeof v === 'boolean' ? v : fallback);
const text = (v: JsonValue | undefined, fallback: string): string => (typeof v === 'string' ? v.toLowerCase() : fallback);

export function deploySettingsOf(config: JsonObject, fileName?: string): DeploySettings | undefined {
  const c = quantizationConfigOf(config, fileName);
  const method = typeof c?.quant_method === 'string' ? c.quant_method.toLowerCase() : undefined;
  if (!c) return undefined;
  if (method === 'gptq') {
    const d = QUANT_DEFAULTS.gptq;
    return {
      method,
      bits: num(c.bits, d.bits),
      groupSize: num(c.group_size, d.group_size),
      sym: bool(c.sym, d.sym),
      descAct: bool(c.desc_act, d.desc_act),
      format: text(pick(c, ['checkpoint_format', 'format']), d.checkpoint_format),
    };
  }
  if (method === 'awq') {
    const d = QUANT_DEFAULTS.awq;
    return {
      method,
      bits: num(pick(c, ['bits', 'w_bit']), d.bits),
      groupSize: num(pick(c, ['group_size', 'q_group_size']), d.group_size),
      sym: !bool(c.zero_point, d.zero_point),
      descAct: false,
      format: text(pick(c, ['version', 'format']), d.version),
    };
  }
  if (method === 'bitsandbytes') {
    const d = QUANT_DEFAULTS.bitsandbytes;
    const eight = bool(c.load_in_8bit, d.load_in_8bit) && !bool(c.load_in_4bit, d.load_in_4bit);
    const format = eight ? 'int8' : text(c.bnb_4bit_quant_type, d.bnb_4bit_quant_type);
    // groupSize -1: bitsandbytes' blocks are not a group size any table reads.
    return { method, bits: eight ? 8 : 4, groupSize: -1, sym: true, descAct: false, format };
  }
  return undefined;
}
