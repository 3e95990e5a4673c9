// Checkpoint formats, both directions: pack a quantized layer into the tensors AutoGPTQ/GPTQModel
// (v1), AutoAWQ (GEMM/GEMV) or bitsandbytes (4-bit/8-bit) store, unpack them back, and the config
// entries (`quantization_config`, quantize_config.json / quant_config.json) their loaders read.
import type { CheckpointLayout, LayoutName } from '../model';
import { loadAddon } from './addon';
import { GroupQuantized } from './groupQuantized';
import { TensorToWrite } from './io';
import { QuantResult } from './quant';

/** A row of the checkpoint layouts table (model/checkpointLayouts.ts). */
export type FormatName = LayoutName;

export type ComputeDtype = 'float16' | 'bfloat16' | 'float32';

export interface PackOptions {
  /** bnb4: the dtype the loader dequantizes to. Default float16. */
  computeDtype?: ComputeDtype;
  /** gptq: GPTQModel's format v2, zero points stored as they are (v1, the default: zero − 1). */
  v2Zeros?: boolean;
}

export interface UnpackOptions {
  /** gptq: 2, 3, 4 or 8. Default 4. */
  bits?: number;
  /** gptq/awq: as in the config; −1 = per channel. Default 128. */
  groupSize?: number;
  /** gptq: the checkpoint is in GPTQModel's format v2 (checkpoint_format "gptq_v2"). */
  v2Zeros?: boolean;
}

export interface ConfigOptions {
  bits?: number;
  groupSize?: number;
  descAct?: boolean;
  sym?: boolean;
  dampPercent?: number;
  trueSequential?: boolean;
  staticGroups?: boolean;
  /** gptq: write checkpoint_format / format "gptq_v2". */
  v2?: boolean;
  zeroPoint?: boolean;
  quantType?: 'nf4' | 'fp4';
  doubleQuant?: boolean;
  computeDtype?: ComputeDtype;
  threshold?: number;
}

export interface CheckpointConfig {
  /** The `quantization_config` object for config.json. */
  quantizationConfig: Record<string, unknown>;
  /** quantize_config.json (GPTQ) or quant_config.json (AWQ). */
  sideFile?: { name: string; text: string };
}

export interface FormatsAddon {
  packLayer(format: FormatName, prefix: string, result: QuantResult | GroupQuantized, options?: PackOptions): TensorToWrite[];
  unpackLayer(format: FormatName, path: string, prefix: string, options?: UnpackOptions): QuantResult;
  checkpointConfig(format: FormatName, options?: ConfigOptions): { quantizationConfig: string; sideFile?: { name: string; text: string } };
  formatLayouts(): CheckpointLayout[];
}

/** The tensors of one Linear layer named `<prefix>.qweight` etc. (prefix e.g. model.layers.0.self_attn.q_proj). */
export function packLayer(
  format: FormatName,
  prefix: string,
  result: QuantResult | GroupQuantized,
  options: PackOptions = {},
): TensorToWrite[] {
  return loadAddon().packLayer(format, prefix, result, options);
}

/** Reads one layer back from a .safetensors file or a model folder. */
export function unpackLayer(format: FormatName, path: string, prefix: string, options: UnpackOptions = {}): QuantResult {
  return loadAddon().unpackLayer(format, path, prefix, options);
}

export function checkpointConfig(format: FormatName, options: ConfigOptions = {}): CheckpointConfig {
  const raw = loadAddon().checkpointConfig(format, options);
  const quantizationConfig = JSON.parse(raw.quantizationConfig) as Record<string, unknown>;
  return raw.sideFile ? { quantizationConfig, sideFile: raw.sideFile } : { quantizationConfig };
}

/** The engine's checkpoint layouts table (native/src/formats/layouts.cc), row by row. */
export function formatLayouts(): CheckpointLayout[] {
  return loadAddon().formatLayouts();
}
