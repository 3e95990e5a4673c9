// The checkpoint layouts the engine writes and loads, one row each: the TypeScript twin of the engine's
// table (native/src/formats/layouts.{h,cc}) for the code that never loads the addon (the memory estimate,
// the editor's checkpoint checks). test/native/formats.test.ts holds the two equal through formatLayouts().
import type { QuantSettings } from './quantSettings';
import type { SafetensorsDtype } from './types';

/** The quantizer result a layout packs. */
export type LayoutFeed = 'group' | 'bnb4' | 'int8';

export interface CheckpointLayoutTensor {
  /** After `<prefix>.`; `{quant_type}` stands for nf4 / fp4. */
  suffix: string;
  dtype: SafetensorsDtype;
  /** Written always, only without / with bitsandbytes' double quantization, or only with zero points. */
  when: 'always' | 'single-quant' | 'double-quant' | 'asymmetric';
}

export interface CheckpointLayout {
  name: 'gptq' | 'awq-gemm' | 'awq-gemv' | 'ct-pack-quantized' | 'bnb4' | 'bnb8';
  feed: LayoutFeed;
  /** Code widths it holds. */
  bits: number[];
  /** Accepts the group quantizer's sym option (AWQ always stores its zero points). */
  symmetric: boolean;
  /** In/out features must be multiples of this; 0 when the packer checks per width. */
  featureMultiple: number;
  packing: string;
  /** In the order the engine writes them. */
  tensors: CheckpointLayoutTensor[];
  quantMethod: string;
  /** quantization_config.version, '' when the method has none. */
  version: string;
  /** quantization_config.checkpoint_format, '' when none. */
  checkpointFormat: string;
  /** The library's own config file beside config.json, '' when none. */
  sideFile: string;
  /** The quantization_config key listing the modules kept unquantized. */
  skipKey: string;
  /** Follows GPTQModel's module tree (Phi-3's gate_up_proj split in two). */
  splitsFusedLinears: boolean;
  /** The pipeline writes it; false: the runtime only loads it. */
  engineWrites: boolean;
}

export type LayoutName = CheckpointLayout['name'];

const t = (suffix: string, dtype: SafetensorsDtype, when: CheckpointLayoutTensor['when'] = 'always'): CheckpointLayoutTensor => ({
  suffix,
  dtype,
  when,
});
const groupTensors = [t('qweight', 'I32'), t('qzeros', 'I32'), t('scales', 'F16')];
/** What both bitsandbytes layouts (4-bit and 8-bit) write into and read from the config. */
const bitsandbytesConfig: Pick<
  CheckpointLayout,
  'quantMethod' | 'version' | 'checkpointFormat' | 'sideFile' | 'skipKey' | 'splitsFusedLinears' | 'engineWrites'
> = {
  quantMethod: 'bitsandbytes',
  version: '',
  checkpointFormat: '',
  sideFile: '',
  skipKey: 'llm_int8_skip_modules',
  splitsFusedLinears: false,
  engineWrites: true,
};

/** In the order the runtime tries them on a folder. */
export const CHECKPOINT_LAYOUTS: readonly CheckpointLayout[] = [
  {
    name: 'gptq',
    feed: 'group',
    bits: [2, 3, 4, 8],
    symmetric: true,
    featureMultiple: 0,
    packing: 'gptq-v1-bitstream',
    tensors: [...groupTensors, t('g_idx', 'I32')],
    quantMethod: 'gptq',
    version: '',
    checkpointFormat: 'gptq',
    sideFile: 'quantize_config.json',
    skipKey: 'modules_to_not_convert',
    splitsFusedLinears: true,
    engineWrites: true,
  },
  {
    name: 'awq-gemm',
    feed: 'group',
    bits: [4],
    symmetric: false,
    featureMultiple: 8,
    packing: 'awq-gemm-interleaved',
    tensors: groupTensors,
    quantMethod: 'awq',
    version: 'gemm',
    checkpointFormat: '',
    sideFile: 'quant_config.json',
    skipKey: 'modules_to_not_convert',
    splitsFusedLinears: false,
    engineWrites: true,
  },
  {
    name: 'awq-gemv',
    feed: 'group',
    bits: [4],
    symmetric: false,
    featureMultiple: 8,
    packing: 'awq-gemv-nibbles',
    tensors: groupTensors,
    quantMethod: 'awq',
    version: 'gemv',
    checkpointFormat: '',
    sideFile: 'quant_config.json',
    skipKey: 'modules_to_not_convert',
    splitsFusedLinears: false,
    engineWrites: true,
  },
  // compressed-tensors 0.19 "pack-quantized" (llm-compressor 0.14's W4A16 / W8A16): loaded only.
  {
    name: 'ct-pack-quantized',
    feed: 'group',
    bits: [4, 8],
    symmetric: true,
    featureMultiple: 0,
    packing: 'pack-quantized',
    tensors: [t('weight_packed', 'I32'), t('weight_scale', 'F16'), t('weight_shape', 'I64'), t('weight_zero_point', 'I32', 'asymmetric')],
    quantMethod: 'compressed-tensors',
    version: '',
    checkpointFormat: '',
    sideFile: '',
    skipKey: 'ignore',
    splitsFusedLinears: false,
    engineWrites: false,
  },
  {
    name: 'bnb4',
    feed: 'bnb4',
    bits: [4],
    symmetric: false,
    featureMultiple: 0,
    packing: 'bnb4-nibbles',
    tensors: [
      t('weight', 'U8'),
      t('weight.absmax', 'F32', 'single-quant'),
      t('weight.absmax', 'U8', 'double-quant'),
      t('weight.nested_absmax', 'F32', 'double-quant'),
      t('weight.nested_quant_map', 'F32', 'double-quant'),
      t('weight.quant_map', 'F32'),
      t('weight.quant_state.bitsandbytes__{quant_type}', 'U8'),
    ],
    ...bitsandbytesConfig,
  },
  {
    name: 'bnb8',
    feed: 'int8',
    bits: [8],
    symmetric: false,
    featureMultiple: 0,
    packing: 'int8-rows',
    tensors: [t('weight', 'I8'), t('SCB', 'F32'), t('weight_format', 'U8')],
    ...bitsandbytesConfig,
  },
];

export function checkpointLayout(name: LayoutName): CheckpointLayout {
  const layout = CHECKPOINT_LAYOUTS.find((l) => l.name === name);
  if (!layout) throw new Error(`checkpoint layout ${name} has no row in model/checkpointLayouts.ts`);
  return layout;
}

/** The layout a checkpoint with these settings is stored in. */
export function layoutOfSettings(s: Exclude<QuantSettings, { method: 'none' }>): CheckpointLayout {
  switch (s.method) {
    case 'gptq':
      return checkpointLayout('gptq');
    case 'awq':
      return checkpointLayout(s.version === 'gemv' ? 'awq-gemv' : 'awq-gemm');
    case 'bnb4':
      return checkpointLayout('bnb4');
    case 'int8':
      return checkpointLayout('bnb8');
    case 'compressed-tensors':
      return checkpointLayout('ct-pack-quantized');
  }
}

/** Whether a configuration writes a tensor of its layout (`doubleQuant` decides bitsandbytes 4-bit's, `asymmetric`
 *  compressed-tensors' zero points). */
export function isWritten(tensor: CheckpointLayoutTensor, doubleQuant: boolean, asymmetric = false): boolean {
  if (tensor.when === 'asymmetric') return asymmetric;
  return tensor.when === 'always' || (tensor.when === 'double-quant') === doubleQuant;
}
