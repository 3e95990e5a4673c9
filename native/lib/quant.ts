// The engine's simple quantizers by name: RTN (group-wise, GPTQ's scale/zero rule), bitsandbytes
// NF4/FP4 (blockwise, optional double quant) and LLM.int8 (row-wise absmax). Runs off the JS thread.
import { loadAddon } from './addon';
import { GroupQuantized, QuantRunControl, cancelFlag } from './groupQuantized';

export type QuantizerName = 'rtn' | 'nf4' | 'fp4' | 'int8';

export interface QuantizeOptions {
  /** rtn: 2, 3, 4 or 8. Default 4. */
  bits?: number;
  /** rtn: input columns per group; −1 = per output channel. Default 128. */
  groupSize?: number;
  /** rtn: symmetric (zero = 2^(bits−1)). Default true. */
  sym?: boolean;
  /** nf4/fp4: values per absmax block. Default 64. */
  blocksize?: number;
  /** nf4/fp4: quantize the absmax again (8-bit, blocks of 256). Default false. */
  doubleQuant?: boolean;
  /** int8: llm_int8_threshold, recorded for inference. Default 6. */
  threshold?: number;
}

export interface GroupResult extends GroupQuantized {
  kind: 'group';
}

export interface Bnb4Result {
  kind: 'bnb4';
  quantType: 'nf4' | 'fp4';
  blocksize: number;
  shape: number[];
  /** The 16 code values (quant_map). */
  code: Float32Array;
  /** (n+1)/2 bytes; element 2i in the high nibble. */
  packed: Uint8Array;
  nested: boolean;
  /** Per-block absmax when not nested. */
  absmax?: Float32Array;
  /** Nested: per-block 8-bit codes into nestedCode, scaled per nestedBlocksize blocks, plus offset. */
  absmaxCodes?: Uint8Array;
  nestedAbsmax?: Float32Array;
  nestedBlocksize?: number;
  nestedCode?: Float32Array;
  offset?: number;
}

export interface Int8Result {
  kind: 'int8';
  rows: number;
  cols: number;
  threshold: number;
  q: Int8Array;
  /** Row absmax (bitsandbytes' SCB). */
  scb: Float32Array;
}

export type QuantResult = GroupResult | Bnb4Result | Int8Result;

export interface QuantizeControl extends QuantRunControl {
  /** Named in error messages (NaN weights, bad group size). */
  tensorName?: string;
}

export interface BnbCodeTables {
  nf4: Float32Array;
  fp4: Float32Array;
  dynamic8: Float32Array;
}

export interface QuantAddon {
  quantize(
    method: string,
    weight: Float32Array,
    rows: number,
    cols: number,
    options: QuantizeOptions,
    onProgress: ((done: number, total: number) => void) | undefined,
    cancel: Int32Array,
    tensorName: string,
  ): Promise<QuantResult>;
  dequantize(result: QuantResult | GroupQuantized): Float32Array;
  quantizerNames(): string[];
  bnbCodeTables(): BnbCodeTables;
}

/** Quantizes `weight` [rows × cols] (row-major, out × in) with the named quantizer. */
export function quantize(
  method: QuantizerName,
  weight: Float32Array,
  rows: number,
  cols: number,
  options: QuantizeOptions = {},
  control: QuantizeControl = {},
): Promise<QuantResult> {
  return loadAddon().quantize(
    method,
    weight,
    rows,
    cols,
    options,
    control.onProgress,
    cancelFlag(control.signal),
    control.tensorName ?? 'weight',
  );
}

/** The fp32 matrix a loader reconstructs from a result. */
export function dequantize(result: QuantResult | GroupQuantized): Float32Array {
  return loadAddon().dequantize(result);
}

export function quantizerNames(): string[] {
  return loadAddon().quantizerNames();
}

/** The NF4 / FP4 code tables and the 8-bit dynamic map that double quantization uses. */
export function bnbCodeTables(): BnbCodeTables {
  return loadAddon().bnbCodeTables();
}
