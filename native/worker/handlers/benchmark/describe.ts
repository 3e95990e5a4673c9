// What a variant is, in the table's terms (quantization, bits, group size, act-order) and as a short label:
// from the quantize plan of a config variant, or from the config.json of a checkpoint folder.
import { PipelinePlan, planFromConfig, readModelConfig } from '../../../lib';

export interface QuantDescription {
  quantization: string;
  bits: number | null;
  groupSize: number | null;
  actOrder: boolean | null;
}

/** bitsandbytes 4-bit quantizes in blocks of 64 weights. */
const BNB4_BLOCK = 64;

export function describePlan(plan: PipelinePlan): QuantDescription {
  switch (plan.method) {
    case 'nf4':
    case 'fp4':
      return { quantization: plan.method, bits: 4, groupSize: BNB4_BLOCK, actOrder: null };
    case 'int8':
      return { quantization: 'int8', bits: 8, groupSize: -1, actOrder: null };
    default:
      return {
        quantization: plan.method,
        bits: plan.bits ?? null,
        groupSize: plan.groupSize ?? null,
        actOrder: plan.layout === 'gptq' ? (plan.descAct ?? false) : null,
      };
  }
}

const DTYPE_NAMES: Record<string, { quantization: string; bits: number }> = {
  float16: { quantization: 'fp16', bits: 16 },
  bfloat16: { quantization: 'bf16', bits: 16 },
  float32: { quantization: 'fp32', bits: 32 },
};

/** A checkpoint folder: its quantization_config when it has one, else the dtype its config.json names. */
export function describeFolder(folder: string): QuantDescription {
  const { config } = readModelConfig(folder);
  const q = config.quantization_config;
  if (typeof q === 'object' && q !== null && !Array.isArray(q)) {
    try {
      return describePlan(planFromConfig(q as Record<string, unknown>));
    } catch {
      const method = (q as Record<string, unknown>).quant_method;
      return { quantization: typeof method === 'string' ? method : 'quantized', bits: null, groupSize: null, actOrder: null };
    }
  }
  const dtype = String(config.dtype ?? config.torch_dtype ?? 'float32').replace(/^torch\./, '');
  const known = DTYPE_NAMES[dtype];
  return { quantization: known?.quantization ?? dtype, bits: known?.bits ?? null, groupSize: null, actOrder: null };
}

/** e.g. "fp16", "gptq 4-bit g128 act-order", "awq 4-bit g128", "nf4", "int8". */
export function labelOf(d: QuantDescription): string {
  if (d.bits === null || d.groupSize === null || ['nf4', 'fp4', 'int8'].includes(d.quantization)) return d.quantization;
  const group = d.groupSize === -1 ? 'per-channel' : `g${d.groupSize}`;
  return `${d.quantization} ${d.bits}-bit ${group}${d.actOrder ? ' act-order' : ''}`;
}
