// What GPTQModel 7.7 asks of each Linear's shape when a config names its GPTQ kernel with `backend`
// (nn_modules/qlinear/exllamav2.py SUPPORTS_IN/OUT_FEATURES_DIVISIBLE_BY; marlin.py MarlinLinear.validate: whole
// packed int32 words in both dimensions, act-order on a whole Marlin thread tile, any other shape zero-padded to
// the tile at load). The editor's `model/kernel-shape` rule reads this table; the deployment tables
// (deployGptqModel.ts) model automatic selection, which keeps Marlin to whole tiles and reads ExLlama v2's row here.
import { marlinTileAligned } from './deployTypes';

/** The settings a kernel's shape check reads. */
export interface KernelSettings {
  bits: number;
  groupSize: number;
  descAct: boolean;
}

export interface GptqKernelShape {
  kernel: string;
  /** What the kernel needs of every quantized Linear, in words, under these settings. */
  needs(s: KernelSettings): string;
  takes(s: KernelSettings, inFeatures: number, outFeatures: number): boolean;
}

/** Act-order that reorders anything: one group over the whole input is no act-order (GPTQModel resets it). */
const actOrder = (s: KernelSettings, inFeatures: number): boolean => s.descAct && s.groupSize !== -1 && s.groupSize !== inFeatures;
/** int32 words per packed dimension; undefined for bits Marlin does not take (another rule reports those). */
const packFactor = (bits: number): number | undefined => (bits === 4 || bits === 8 ? 32 / bits : undefined);

/** backend → what GPTQModel 7.7's kernel takes. */
export const GPTQ_KERNEL_SHAPES: Readonly<Record<string, GptqKernelShape>> = {
  marlin: {
    kernel: 'MarlinLinear',
    needs: (s) => {
      const words = `in_features and out_features divisible by ${packFactor(s.bits) ?? 8} (whole packed words; it pads the rest of its tile at load)`;
      return s.descAct ? `${words} and, with act-order, a whole thread tile (out % 64 and in % 128, or out % 128 and in % 64)` : words;
    },
    takes: (s, inFeatures, outFeatures) => {
      const pack = packFactor(s.bits);
      if (pack === undefined) return true;
      if (inFeatures % pack !== 0 || outFeatures % pack !== 0) return false;
      return !actOrder(s, inFeatures) || marlinTileAligned({ in: inFeatures, out: outFeatures });
    },
  },
  exllama_v2: {
    kernel: 'ExllamaV2Linear',
    needs: () => 'in_features and out_features divisible by 32',
    takes: (_s, inFeatures, outFeatures) => inFeatures % 32 === 0 && outFeatures % 32 === 0,
  },
};
