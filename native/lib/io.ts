// Typed access to the engine's safetensors I/O: headers, tensors (copied into typed arrays), writing
// single files, and writing whole checkpoint folders atomically (temp folder renamed on success).
import { loadAddon } from './addon';
import { cancelFlag } from './groupQuantized';

export type DTypeName = 'F32' | 'F16' | 'BF16' | 'I8' | 'U8' | 'I32' | 'I64';

/** F16 and BF16 data arrive as their raw 16-bit patterns, I64 (compressed-tensors' weight_shape) as its raw bytes. */
export type TensorData = Float32Array | Uint16Array | Int8Array | Uint8Array | Int32Array;

export interface TensorInfo {
  name: string;
  dtype: DTypeName;
  shape: number[];
  byteLength: number;
}

export interface SafetensorsHeader {
  tensors: TensorInfo[];
  metadata: Record<string, string>;
}

export interface Tensor extends TensorInfo {
  data: TensorData;
}

export interface TensorToWrite {
  name: string;
  dtype: DTypeName;
  shape: number[];
  data: TensorData;
}

/** One file of a checkpoint folder: a safetensors file, or text such as config.json. */
export type CheckpointFile = { name: string; text: string } | { name: string; tensors: TensorToWrite[]; metadata?: Record<string, string> };

export interface WriteCheckpointOptions {
  /** The model the checkpoint comes from: writing into (or over) it is refused. */
  source?: string;
  /** Replace an existing non-empty output folder. Default false. */
  overwrite?: boolean;
  /** Called after each tensor or text file. */
  onProgress?: (done: number, total: number) => void;
  /** Aborting rejects with "cancelled" and leaves no output behind. */
  signal?: AbortSignal;
}

export interface IoAddon {
  readSafetensorsHeader(path: string): SafetensorsHeader;
  readTensor(path: string, name: string): Tensor;
  writeSafetensors(path: string, tensors: TensorToWrite[], metadata?: Record<string, string>): void;
  writeCheckpoint(
    out: string,
    source: string | undefined,
    overwrite: boolean,
    files: CheckpointFile[],
    onProgress: ((done: number, total: number) => void) | undefined,
    cancel: Int32Array,
  ): Promise<void>;
  f16ToF32(bits: Uint16Array): Float32Array;
  bf16ToF32(bits: Uint16Array): Float32Array;
  f32ToF16(values: Float32Array): Uint16Array;
  f32ToBf16(values: Float32Array): Uint16Array;
}

/** The header of one .safetensors file (validated: offsets, overlaps, dtypes, sizes). */
export function readSafetensorsHeader(path: string): SafetensorsHeader {
  return loadAddon().readSafetensorsHeader(path);
}

/** One tensor from a .safetensors file or a model folder (single file or sharded index). */
export function readTensor(path: string, name: string): Tensor {
  return loadAddon().readTensor(path, name);
}

/** A float tensor (F32, F16 or BF16) as fp32 values. */
export function readTensorFloat32(path: string, name: string): { shape: number[]; data: Float32Array } {
  const t = readTensor(path, name);
  const addon = loadAddon();
  switch (t.dtype) {
    case 'F32':
      return { shape: t.shape, data: t.data as Float32Array };
    case 'F16':
      return { shape: t.shape, data: addon.f16ToF32(t.data as Uint16Array) };
    case 'BF16':
      return { shape: t.shape, data: addon.bf16ToF32(t.data as Uint16Array) };
    default:
      throw new Error(`tensor "${name}" in ${path} is ${t.dtype}, not a float tensor`);
  }
}

/** Writes one .safetensors file (tensors sorted by name, 8-byte aligned header, fsynced). */
export function writeSafetensors(path: string, tensors: TensorToWrite[], metadata: Record<string, string> = {}): void {
  loadAddon().writeSafetensors(path, tensors, metadata);
}

/** Writes every file into `<out>.tmp-<pid>` and renames it to `out` once all are written. */
export function writeCheckpoint(out: string, files: CheckpointFile[], options: WriteCheckpointOptions = {}): Promise<void> {
  return loadAddon().writeCheckpoint(
    out,
    options.source,
    options.overwrite ?? false,
    files,
    options.onProgress,
    cancelFlag(options.signal),
  );
}

export function f16ToF32(bits: Uint16Array): Float32Array {
  return loadAddon().f16ToF32(bits);
}

export function bf16ToF32(bits: Uint16Array): Float32Array {
  return loadAddon().bf16ToF32(bits);
}

/** Round to nearest even, overflow to Inf, as torch's .half(). */
export function f32ToF16(values: Float32Array): Uint16Array {
  return loadAddon().f32ToF16(values);
}

/** Round to nearest even, as torch's .bfloat16(). */
export function f32ToBf16(values: Float32Array): Uint16Array {
  return loadAddon().f32ToBf16(values);
}
