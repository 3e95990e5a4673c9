// What our CPU engine's job worker costs besides the model itself, measured on the project's machine
// (Linux 6.18, x86-64, Node 20) by `node test/tools/measure-cpu-constants.mjs`, which prints this table:
//  - processBaselineBytes: the peak RSS of a generate job (27-token prompt, 64 new tokens) on a 0.6M-parameter
//    random Llama — Node, the worker's modules, the addon, IPC and V8's heap — less that model's own predicted
//    terms and its tokenizer's: what any job pays before its model counts.
//  - tokenizerBytesPerFileByte: RSS growth while @huggingface/tokenizers parses and builds tiny-llama's
//    tokenizer.json (261 kB), per byte of that file; the library's code is already in the baseline.
//  - measuringProcessBaselineBytes: the same for a benchmark's measuring process (a fork of the worker that
//    loads no tokenizer and receives token ids): the peak of a 30-token forward at batch 1 on that model in a
//    benchmark job, less the model's predicted terms. It exceeds the worker's baseline though it parses no
//    tokenizer (V8 heap and module state this measurement does not split further).
//  - perThreadBytes: growth of a generate job's peak per extra engine thread (1 vs 16 threads) with the
//    kernels' per-thread panels subtracted: a thread's stack and malloc arena pages actually touched (3 to
//    17 KiB over runs: within the noise of a 58 MiB process; 10 KiB stands for it).
//  - mappedWindowBytes: how much of a weight file reading one embedding row maps: the kernel's fault-around
//    (64 KiB of a file in small page-cache folios: a file our writer streamed, or one read from disk). A file
//    the page cache holds in large folios (written in big chunks) maps up to the folio, 2 MiB here — then a
//    few dozen distinct tokens map a whole 62 MiB embedding and the peak runs that much above the estimate
//    (6 % on the 349M random Llama of `npm run bench`, whose generator writes whole tensors at once).
//  - quantizeProcessBaselineBytes: the same for a quantize job's worker, from `node test/bench/quantize-memory.mjs`:
//    the peaks of tiny-llama's RTN and NF4 jobs (78.3 and 77.6 MiB) less their predicted model terms (15.6 MiB);
//    it loads more than a generate job's (the pipeline's modules, the output lock, the pre-job check). Raised by
//    5.4 MiB when tokenizerBytesPerFileByte was re-measured lower, as those peaks were split with the old figure.
//  - tokenizeBytesPerTextByte: RSS growth while a quantize job tokenizes its calibration text (the bundled
//    WikiText-2 validation split, 1.1 MB, with tiny-llama's tokenizer) per byte of text: the tokenizer's
//    JS objects, which V8 keeps as heap after they are collected (86-91 per byte over runs).
export interface CpuEngineConstants {
  processBaselineBytes: number;
  measuringProcessBaselineBytes: number;
  tokenizerBytesPerFileByte: number;
  perThreadBytes: number;
  mappedWindowBytes: number;
  quantizeProcessBaselineBytes: number;
  tokenizeBytesPerTextByte: number;
}

export const CPU_ENGINE_CONSTANTS: Readonly<CpuEngineConstants> = {
  processBaselineBytes: 63.5 * 2 ** 20,
  measuringProcessBaselineBytes: 60.7 * 2 ** 20,
  tokenizerBytesPerFileByte: 10.3,
  perThreadBytes: 10 * 2 ** 10,
  mappedWindowBytes: 64 * 2 ** 10,
  quantizeProcessBaselineBytes: 67.8 * 2 ** 20,
  tokenizeBytesPerTextByte: 87.0,
};
