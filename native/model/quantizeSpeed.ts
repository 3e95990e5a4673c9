// Seconds per unit of each quantize phase at one engine thread on the project's machine (2-core AMD EPYC, Zen 5,
// AVX-512), printed by `node test/tools/measure-quantize-speed.mjs`, which times the engine's own kernels:
//  - forwardFlop: a GPTQ job on the 349M random Llama (8 × 256 calibration tokens): its CPU time less every other
//    phase as priced here, per FLOP of its forward passes (the pipeline's own fp32 layer forward);
//  - hessianMac, updateMac: GPTQ on random linears of four shapes, least squares over tokens × cols² (Hessian),
//    cols³ (inverse Cholesky) and rows × cols² (column updates);
//  - choleskyCube: per cols³ at each measured width (GPTQ on a 64-row linear, less its Hessian and updates as
//    priced above): it doubles once the [cols²] doubles outgrow the caches (2816: 63 MB); widths in between are
//    interpolated, wider ones take the widest measured (Llama-3.2-1B's down_proj, 8192, is beyond it);
//  - ioByte: copying the 349M model's weight file, per byte read or written (mapping the source, the writer);
//  - weightElement, bnbElement: RTN (GPTQ layout) and NF4 jobs on that model, their CPU time less reading and
//    writing, per weight (fp16 → fp32, rounding, packing, the dequantized copy); GPTQ packs as RTN does;
//  - tokenizeByte: tokenizing the bundled WikiText-2 validation text with the demo tokenizer, per byte.
// A faster kernel (or another machine) changes these: re-run the tool and paste its table.
export interface QuantizeSpeed {
  forwardFlop: number;
  hessianMac: number;
  /** [cols, seconds per cols³], by width. */
  choleskyCube: ReadonlyArray<readonly [number, number]>;
  updateMac: number;
  weightElement: number;
  bnbElement: number;
  ioByte: number;
  tokenizeByte: number;
}

/** Measured 2026-12-03 at load average 5–16 (other builds; CPU time is divided): forward ≈ 94 GFLOP/s per thread. */
export const QUANTIZE_SPEED: Readonly<QuantizeSpeed> = {
  forwardFlop: 1.066e-11,
  hessianMac: 5.357e-11,
  choleskyCube: [
    [1024, 9.06e-11],
    [2048, 8.59e-11],
    [2816, 1.669e-10],
    [4096, 2.068e-10],
  ],
  updateMac: 3.932e-11,
  weightElement: 1.118e-8,
  bnbElement: 2.528e-8,
  ioByte: 7.513e-10,
  tokenizeByte: 9.121e-7,
};
