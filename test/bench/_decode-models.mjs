// The real-shape decode models shared by the speed benchmarks: the 349M random Llama (test/tools/random-llama.mjs),
// or one of its REAL_SHAPES, as stored (fp16) and quantized without calibration (round-to-nearest into the GPTQ and
// AWQ GEMM layouts, bitsandbytes NF4), each written once beside the model in the bench cache with a stamp of how it
// was made.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureRandomLlama, ensureRealShape } from '../tools/random-llama.mjs';

const require = createRequire(import.meta.url);
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export const DECODE_FORMATS = [
  { label: 'fp16', name: null },
  {
    label: 'GPTQ 4-bit g128',
    name: 'gptq-4bit-g128-rtn',
    algorithm: 'rtn',
    config: { quant_method: 'gptq', bits: 4, group_size: 128, desc_act: false, sym: true },
  },
  {
    label: 'AWQ GEMM 4-bit g128',
    name: 'awq-gemm-4bit-g128-rtn',
    algorithm: 'rtn',
    config: { quant_method: 'awq', version: 'gemm', bits: 4, group_size: 128, zero_point: true },
  },
  { label: 'NF4', name: 'nf4', config: { quant_method: 'bitsandbytes', load_in_4bit: true, bnb_4bit_quant_type: 'nf4' } },
];

/** The folder of `format` for the random Llama (or the REAL_SHAPES key `shape`), quantizing it first when the cached
 *  copy is missing or stale. */
export async function decodeModel(format, log = (line) => process.stderr.write(`${line}\n`), shape = undefined) {
  const source = shape === undefined ? ensureRandomLlama(undefined, log) : ensureRealShape(shape, log);
  if (!format.name) return source;
  const out = `${source}-${format.name}`;
  const stamp = JSON.stringify({
    config: format.config,
    algorithm: format.algorithm ?? null,
    source: readFileSync(join(source, 'generator.json'), 'utf8'),
  });
  const stampFile = join(out, 'bench-source.json');
  if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) return out;
  log(`decode models: quantizing ${source} → ${out} …`);
  const { quantizeModel } = require(join(root, 'out', 'native', 'lib', 'quantize.js'));
  await quantizeModel({ model: source, config: format.config, algorithm: format.algorithm, out, overwrite: true });
  writeFileSync(stampFile, stamp);
  return out;
}
