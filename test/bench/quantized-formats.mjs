#!/usr/bin/env node
// Quantized formats side by side on the bundled tiny-llama: each format is written once (round-to-nearest
// or bitsandbytes, no calibration, so the figures time the runtime and not the quantizer), then decode and
// prefill speed are measured in the same run as the fp16 baseline and reported as ratios to it.
// Last stdout line: {"name": "quantized-formats", "results": [...]}; details in bench-results/quantized-formats.json.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { openModel } = require(join(root, 'out', 'native', 'lib', 'runtime.js'));
const { quantizeModel } = require(join(root, 'out', 'native', 'lib', 'quantize.js'));

const source = join(root, 'examples', 'tiny-llama');
const FORMATS = [
  { label: 'GPTQ 4-bit g128', algorithm: 'rtn', config: { quant_method: 'gptq', bits: 4, group_size: 128, sym: true } },
  { label: 'GPTQ 3-bit g128', algorithm: 'rtn', config: { quant_method: 'gptq', bits: 3, group_size: 128, sym: true } },
  {
    label: 'AWQ GEMM 4-bit g128',
    algorithm: 'rtn',
    config: { quant_method: 'awq', bits: 4, group_size: 128, zero_point: true, version: 'gemm' },
  },
  {
    label: 'NF4 double quant',
    config: { quant_method: 'bitsandbytes', load_in_4bit: true, bnb_4bit_quant_type: 'nf4', bnb_4bit_use_double_quant: true },
  },
  { label: 'int8', config: { quant_method: 'bitsandbytes', load_in_8bit: true } },
];

async function speeds(folder) {
  const model = openModel(folder);
  const prompt = Array.from({ length: 256 }, (_, i) => ((i * 37) % 4000) + 10);
  await model.logits(prompt); // warm-up
  let prefill = 0;
  for (let i = 0; i < 3; i++) {
    const t = process.hrtime.bigint();
    await model.logits(prompt);
    prefill = Math.max(prefill, prompt.length / (Number(process.hrtime.bigint() - t) / 1e9));
  }
  let decode = 0;
  for (let i = 0; i < 3; i++) {
    const r = await model.generateIds(prompt.slice(0, 8), { maxTokens: 128, stopIds: [] });
    decode = Math.max(decode, (r.tokens.length - 1) / r.decodeSeconds);
  }
  return { prefill, decode };
}

const scratch = mkdtempSync(join(tmpdir(), 'qs-bench-formats-'));
const details = [];
try {
  const base = await speeds(source);
  details.push({ label: 'fp16 (as stored)', ...base });
  for (const f of FORMATS) {
    const out = join(scratch, f.label.replace(/\W+/g, '-'));
    await quantizeModel({ model: source, config: f.config, algorithm: f.algorithm, out });
    details.push({ label: f.label, ...(await speeds(out)) });
  }
  const results = details.flatMap((d) => [
    { metric: `${d.label} decode`, value: d.decode, unit: 'tokens/s' },
    { metric: `${d.label} decode vs fp16`, value: d.decode / base.decode, unit: 'ratio' },
    { metric: `${d.label} prefill vs fp16`, value: d.prefill / base.prefill, unit: 'ratio' },
  ]);
  mkdirSync(join(root, 'bench-results'), { recursive: true });
  writeFileSync(join(root, 'bench-results', 'quantized-formats.json'), JSON.stringify(details, null, 2) + '\n');
  console.log(JSON.stringify({ name: 'quantized-formats', results }));
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
