#!/usr/bin/env node
// The quality table: every quantization method on the bundled tiny-llama, quantized by the engine with the
// default calibration (128 windows × 256 tokens of WikiText-2 valid, seed 0), then WikiText-2 test perplexity
// with the protocol of the models README (windows of 256, fp32 compute). Long (each perplexity is the whole
// test text): run it alone, `node test/bench/quality.mjs [label-substring ...]`.
// Last stdout line: {"name": "quality", "results": [...]}; the table goes to bench-results/quality.md.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { openModel } = require(join(root, 'out', 'native', 'lib', 'runtime.js'));
const { quantizeModel } = require(join(root, 'out', 'native', 'lib', 'quantize.js'));
const { TextTokenizer } = require(join(root, 'out', 'native', 'lib', 'tokenizer.js'));
const { wikitext2TestPath } = require(join(root, 'out', 'native', 'lib', 'perplexity.js'));

const source = join(root, 'examples', 'tiny-llama');
const gptq = (bits, extra = {}) => ({
  quant_method: 'gptq',
  bits,
  group_size: 128,
  sym: true,
  desc_act: false,
  damp_percent: 0.01,
  true_sequential: true,
  ...extra,
});
const METHODS = [
  { label: 'fp16', bits: 16 },
  { label: 'RTN 4-bit g128', bits: 4, algorithm: 'rtn', config: gptq(4) },
  { label: 'GPTQ 4-bit g128', bits: 4, config: gptq(4) },
  { label: 'GPTQ 4-bit g128 act-order', bits: 4, config: gptq(4, { desc_act: true }) },
  { label: 'AWQ 4-bit g128 (GEMM)', bits: 4, config: { quant_method: 'awq', bits: 4, group_size: 128, zero_point: true, version: 'gemm' } },
  { label: 'RTN 3-bit g128', bits: 3, algorithm: 'rtn', config: gptq(3) },
  { label: 'GPTQ 3-bit g128', bits: 3, config: gptq(3) },
  {
    label: 'NF4 (double quant)',
    bits: 4,
    config: { quant_method: 'bitsandbytes', load_in_4bit: true, bnb_4bit_quant_type: 'nf4', bnb_4bit_use_double_quant: true },
  },
  { label: 'FP4', bits: 4, config: { quant_method: 'bitsandbytes', load_in_4bit: true, bnb_4bit_quant_type: 'fp4' } },
  { label: 'LLM.int8', bits: 8, config: { quant_method: 'bitsandbytes', load_in_8bit: true } },
];
const only = process.argv.slice(2);
const chosen = METHODS.filter((m) => only.length === 0 || only.some((o) => m.label.includes(o)));

const ids = TextTokenizer.load(source).encode(readFileSync(wikitext2TestPath(), 'utf8'), { addSpecialTokens: false });
const scratch = mkdtempSync(join(tmpdir(), 'qs-bench-quality-'));
const rows = [];
try {
  for (const m of chosen) {
    let folder = source;
    let quantizeSeconds = null;
    if (m.config) {
      folder = join(scratch, m.label.replace(/\W+/g, '-'));
      const t = process.hrtime.bigint();
      await quantizeModel({ model: source, config: m.config, algorithm: m.algorithm, out: folder });
      quantizeSeconds = Number(process.hrtime.bigint() - t) / 1e9;
    }
    const r = await openModel(folder).perplexity(ids, { seq: 256 });
    rows.push({ method: m.label, bits: m.bits, perplexity: r.perplexity, quantizeSeconds, evalSeconds: r.seconds });
    process.stderr.write(
      `${m.label}: perplexity ${r.perplexity.toFixed(4)}, quantize ${quantizeSeconds?.toFixed(1) ?? '-'} s, eval ${r.seconds.toFixed(1)} s\n`,
    );
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
const table = [
  '| method | bits | WikiText-2 test perplexity | quantize time (s) |',
  '| --- | --- | --- | --- |',
  ...rows.map(
    (r) => `| ${r.method} | ${r.bits} | ${r.perplexity.toFixed(4)} | ${r.quantizeSeconds === null ? '—' : r.quantizeSeconds.toFixed(1)} |`,
  ),
].join('\n');
mkdirSync(join(root, 'bench-results'), { recursive: true });
writeFileSync(join(root, 'bench-results', 'quality.md'), table + '\n');
writeFileSync(join(root, 'bench-results', 'quality.json'), JSON.stringify(rows, null, 2) + '\n');
console.error(table);
console.log(
  JSON.stringify({ name: 'quality', results: rows.map((r) => ({ metric: `${r.method} perplexity`, value: r.perplexity, unit: 'ppl' })) }),
);
