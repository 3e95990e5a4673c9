// Seconds per unit of each quantize phase at one engine thread on the project's machine (2-core AMD EPYC, Zen 5,
// AVX-512), printed by `node test/tools/measure-quantize-speed.mjs`, which times the engine's own kernels:
//  - forwardFlop: GPTQ jobs on the 349M random Llama of 8 × 256 and 4 × 128 calibration tokens: the CPU time the
//    longer one adds less the Hessians it adds, per FLOP of forward passes it adds (the pipeline's fp32 layer forward);
//  - hessianMac, updateMac: GPTQ on random 1024-wide linears, each from two runs differing only in tokens × cols²
//    (Hessian) or rows × cols² (column updates), so the inverse Cholesky (cols³) cancels;
//  - choleskyCube: per cols³ at each measured width (GPTQ on a 64-row linear, less its Hessian and updates as
//    priced above): the blocked factorisation (quant/linalg.cc, 16-column panels) keeps it about flat from 2048 on,
//    narrower widths paying more per cols³ for their panels' overhead; widths in between are interpolated, wider ones take the widest measured (Llama-3.2-1B's down_proj, 8192, is beyond it);
//  - ioByte: copying the 349M model's weight file, per byte read or written (mapping the source, the writer);
//  - weightElement, bnbElement: RTN (GPTQ layout) and NF4 jobs on that model, their CPU time less reading and
//    writing, per weight (fp16 → fp32, rounding, packing, the dequantized copy); GPTQ packs as RTN does;
//  - awqFakeElement: AWQ's scale search on a random 1024 × 1024 linear over 8 tokens (so the outputs cost nothing), two
//    grids (2 and 10 points) apart, per weight and grid point: scaling, rounding and unscaling a candidate;
//  - awqGridMac: the same search over 4096 tokens (scored on XᵀX), two grids apart, less the rounding as priced,
//    per rows·cols² multiply-add of a grid point;
//  - awqClipMac: AWQ's quantization of a 1024 × 1024 linear with and without the clip search (4096 tokens), per
//    multiply-add of the search's group blocks (the rounding inside included);
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
  awqGridMac: number;
  awqFakeElement: number;
  awqClipMac: number;
  tokenizeByte: number;
}

/** Measured 2026-12-03 at load average 2.9–3.2 (other work; CPU time is divided): forward ≈ 104 GFLOP/s per thread; the AWQ
 *  units (`… awq`, the middle of three runs) 2026-12-03 at load average 1.8. */
export const QUANTIZE_SPEED: Readonly<QuantizeSpeed> = {
  forwardFlop: 9.585e-12,
  hessianMac: 1.265e-11,
  choleskyCube: [
    [1024, 5.337e-11],
    [2048, 3.31e-11],
    [2816, 3.405e-11],
    [4096, 3.455e-11],
  ],
  updateMac: 2.88e-11,
  weightElement: 1.188e-8,
  bnbElement: 2.323e-8,
  ioByte: 1.689e-10,
  awqGridMac: 1.531e-11,
  awqFakeElement: 4.505e-9,
  awqClipMac: 5.199e-11,
  tokenizeByte: 7.668e-7,
};
