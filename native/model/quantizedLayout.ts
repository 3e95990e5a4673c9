// Bytes one Linear weight [out, in] takes in each quantized checkpoint layout: the tensors of its row in
// checkpointLayouts.ts, each sized here. Biases are kept as they are and counted apart.
import { isWritten, layoutOfSettings } from './checkpointLayouts';
import { DTYPE_BYTES } from './dtypes';
import type { QuantSettings } from './quantSettings';

export interface LayoutTensor {
  suffix: string;
  bytes: number;
}

const ceilDiv = (a: number, b: number): number => Math.ceil(a / b);

/** bitsandbytes blocks: 64 weights per absmax; 256 absmax values per nested block when double-quantized. */
export const BNB_BLOCKSIZE = 64;
export const BNB_NESTED_BLOCKSIZE = 256;

/**
 * Bytes of the JSON quant-state bitsandbytes stores beside a 4-bit weight (QuantState.as_dict(packed=True)),
 * written with ", " / ": " separators. The nested offset is a float whose printed length varies; a
 * typical 19-character value stands in for it.
 */
export function bnbQuantStateBytes(quantType: 'nf4' | 'fp4', shape: readonly number[], computeDtype: string, doubleQuant: boolean): number {
  const state: Record<string, unknown> = { quant_type: quantType, blocksize: BNB_BLOCKSIZE, dtype: computeDtype, shape };
  if (doubleQuant) Object.assign(state, { nested_blocksize: BNB_NESTED_BLOCKSIZE, nested_dtype: 'float32', nested_offset: 0 });
  const json = JSON.stringify(state)
    .replace(/,/g, ', ')
    .replace(/":/g, '": ')
    .replace('"nested_offset": 0', '"nested_offset": 0.01234567891234567');
  return Buffer.byteLength(json, 'utf8');
}

/** Elements of each tensor a quantized Linear of `out` × `in` is stored as, by table suffix. */
function elementCounts(
  s: Exclude<QuantSettings, { method: 'none' }>,
  out: number,
  inFeatures: number,
  computeDtype: string,
): Record<string, number> {
  const numel = out * inFeatures;
  switch (s.method) {
    case 'gptq': {
      // AutoGPTQ v1: qweight [in·bits/32, out], qzeros [groups, out·bits/32], scales [groups, out], g_idx [in].
      const groups = s.groupSize === -1 ? 1 : ceilDiv(inFeatures, s.groupSize);
      return {
        qweight: ceilDiv(inFeatures * s.bits, 32) * out,
        qzeros: groups * ceilDiv(out * s.bits, 32),
        scales: groups * out,
        g_idx: inFeatures,
      };
    }
    case 'awq': {
      const groups = ceilDiv(inFeatures, s.groupSize);
      if (s.version === 'gemv') {
        // AutoAWQ GEMV: qweight [out, in/8], qzeros [out, W], scales [out, 8·W], with W the group count in
        // whole words, rounded up to 2 or 4 words for group sizes 64 and 32.
        const multiple = s.groupSize >= 128 ? 1 : s.groupSize === 64 ? 2 : 4;
        const words = ceilDiv(ceilDiv(groups, 8), multiple) * multiple;
        return { qweight: out * ceilDiv(inFeatures, 8), qzeros: out * words, scales: out * 8 * words };
      }
      // AutoAWQ GEMM: qweight [in, out/8], qzeros [groups, out/8], scales [groups, out].
      const packedOut = ceilDiv(out * s.bits, 32);
      return { qweight: inFeatures * packedOut, qzeros: groups * packedOut, scales: groups * out };
    }
    case 'bnb4': {
      const blocks = ceilDiv(numel, BNB_BLOCKSIZE);
      return {
        weight: ceilDiv(numel, 2), // two 4-bit codes per byte
        'weight.absmax': blocks, // fp32, or uint8 codes when double-quantized
        'weight.nested_absmax': ceilDiv(blocks, BNB_NESTED_BLOCKSIZE),
        'weight.nested_quant_map': 256,
        'weight.quant_map': 16,
        'weight.quant_state.bitsandbytes__{quant_type}': bnbQuantStateBytes(s.quantType, [out, inFeatures], computeDtype, s.doubleQuant),
      };
    }
    case 'int8':
      // LLM.int8: weight [out, in], SCB [out] (row absmax), weight_format a scalar.
      return { weight: numel, SCB: out, weight_format: 1 };
    case 'compressed-tensors': {
      // pack-quantized: weight_packed [out, ⌈in·bits/32⌉], weight_scale [out, groups], weight_shape [2],
      // weight_zero_point [⌈out·bits/32⌉, groups] (compressed-tensors 0.19 pack_to_int32).
      const groups = s.groupSize === -1 ? 1 : ceilDiv(inFeatures, s.groupSize);
      return {
        weight_packed: out * ceilDiv(inFeatures * s.bits, 32),
        weight_scale: out * groups,
        weight_shape: 2,
        weight_zero_point: ceilDiv(out * s.bits, 32) * groups,
      };
    }
  }
}

/** The tensors a quantized Linear of `out` × `in` is stored as: the layout table's, in its order. */
export function quantizedLinearLayout(
  s: Exclude<QuantSettings, { method: 'none' }>,
  out: number,
  inFeatures: number,
  computeDtype: string,
): LayoutTensor[] {
  const layout = layoutOfSettings(s);
  const counts = elementCounts(s, out, inFeatures, computeDtype);
  return layout.tensors
    .filter((x) => isWritten(x, s.method === 'bnb4' && s.doubleQuant, s.method === 'compressed-tensors' && !s.symmetric))
    .map((x) => {
      const n = counts[x.suffix];
      if (n === undefined) throw new Error(`${layout.name} tensor ${x.suffix}: model/quantizedLayout.ts has no size for it`);
      return { suffix: x.suffix.replace('{quant_type}', s.method === 'bnb4' ? s.quantType : ''), bytes: n * DTYPE_BYTES[x.dtype] };
    });
}
