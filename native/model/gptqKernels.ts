// The shapes each GPTQModel 7.7 kernel takes (its SUPPORTS_IN/OUT_FEATURES_DIVISIBLE_BY): the editor's
// `backend` rule and the checkpoint doctor's target list both read this one table.
export interface GptqKernelShape {
  kernel: string;
  inBy: number;
  outBy: number;
}

/** backend → the divisors GPTQModel 7.7's kernel declares. */
export const GPTQ_KERNEL_SHAPES: Readonly<Record<string, GptqKernelShape>> = {
  marlin: { kernel: 'MarlinQuantLinear', inBy: 1, outBy: 64 },
  exllama_v2: { kernel: 'ExllamaV2QuantLinear', inBy: 32, outBy: 32 },
};

export function kernelTakes(shape: GptqKernelShape, inFeatures: number, outFeatures: number): boolean {
  return inFeatures % shape.inBy === 0 && outFeatures % shape.outBy === 0;
}
