// Bytes one Linear weight [out, in] takes in each quantized checkpoint layout — the tensors our
// writer (and the upstream libraries) store for it. Biases are kept as they are and counted apart.
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
  const json = JSON.stringify(state).replace(/,/g, ', ').replace(/":/g, '": ').replace('"nested_offset": 0', '"nested_offset": 0.01234567891234567');
  return Buffer.byteLength(json, 'utf8');
}

/** The tensors a quantized Linear of `out` × `in` is stored as. */
export function quantizedLinearLayout(s: Exclude<QuantSettings, { method: 'none' }>, out: number, inFeatures: number, computeDtype: string): LayoutTensor[] {
  const numel = out * inFeatures;
  switch (s.method) {
    case 'gptq': {
      // AutoGPTQ v1: qweight int32 [in·bits/32, out], qzeros int32 [groups, out·bits/32], scales fp16 [groups, out], g_idx int32 [in].
      const groups = s.groupSize === -1 ? 1 : ceilDiv(inFeatures, s.groupSize);
      return [
        { suffix: 'qweight', bytes: ceilDiv(inFeatures * s.bits, 32) * out * 4 },
        { suffix: 'qzeros', bytes: groups * ceilDiv(out * s.bits, 32) * 4 },
        { suffix: 'scales', bytes: groups * out * 2 },
        { suffix: 'g_idx', bytes: inFeatures * 4 },
      ];
    }
    case 'awq': {
      if (s.version === 'gemv') {
        // AutoAWQ GEMV: qweight int32 [out, in/8], qzeros int32 [out, W], scales fp16 [out, 8·W], with W the
        // group count in whole words, rounded up to 2 or 4 words for group sizes 64 and 32.
        const groups = ceilDiv(inFeatures, s.groupSize);
        const multiple = s.groupSize >= 128 ? 1 : s.groupSize === 64 ? 2 : 4;
        const words = ceilDiv(ceilDiv(groups, 8), multiple) * multiple;
        return [
          { suffix: 'qweight', bytes: out * ceilDiv(inFeatures, 8) * 4 },
          { suffix: 'qzeros', bytes: out * words * 4 },
          { suffix: 'scales', bytes: out * 8 * words * 2 },
        ];
      }
      // AutoAWQ GEMM: qweight int32 [in, out/8], qzeros int32 [groups, out/8], scales fp16 [groups, out].
      const groups = ceilDiv(inFeatures, s.groupSize);
      const packedOut = ceilDiv(out * s.bits, 32);
      return [
        { suffix: 'qweight', bytes: inFeatures * packedOut * 4 },
        { suffix: 'qzeros', bytes: groups * packedOut * 4 },
        { suffix: 'scales', bytes: groups * out * 2 },
      ];
    }
    case 'bnb4': {
      const blocks = ceilDiv(numel, BNB_BLOCKSIZE);
      const state = bnbQuantStateBytes(s.quantType, [out, inFeatures], computeDtype, s.doubleQuant);
      const absmax: LayoutTensor[] = s.doubleQuant
        ? [
            { suffix: 'weight.absmax', bytes: blocks }, // uint8 codes
            { suffix: 'weight.nested_absmax', bytes: ceilDiv(blocks, BNB_NESTED_BLOCKSIZE) * 4 },
            { suffix: 'weight.nested_quant_map', bytes: 256 * 4 },
          ]
        : [{ suffix: 'weight.absmax', bytes: blocks * 4 }];
      return [
        { suffix: 'weight', bytes: ceilDiv(numel, 2) }, // two 4-bit codes per byte
        ...absmax,
        { suffix: 'weight.quant_map', bytes: 16 * 4 },
        { suffix: `weight.quant_state.bitsandbytes__${s.quantType}`, bytes: state },
      ];
    }
    case 'int8':
      // LLM.int8: int8 weight [out, in], SCB fp32 [out] (row absmax), weight_format uint8 scalar.
      return [
        { suffix: 'weight', bytes: numel },
        { suffix: 'SCB', bytes: out * 4 },
        { suffix: 'weight_format', bytes: 1 },
      ];
  }
}
