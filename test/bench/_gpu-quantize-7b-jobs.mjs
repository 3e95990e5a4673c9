// Writes test/bench/_gpu_quantize_7b_jobs.json: the quantize jobs _gpu_quantize_7b.py feeds the python backend's
// runner on a GPU machine (which has no Node), each with the plan and the library recipe the worker would send
// (native/model: planFromConfig, pythonBackendRecipe). test/unit/native/gpuQuantizeJobs.test.ts holds the file
// equal to what this writes; rerun it after a change to either:  node test/bench/_gpu-quantize-7b-jobs.mjs
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

/** The job name → its quantization_config and format. */
export const GPU_QUANTIZE_JOBS = {
  nf4: { config: { quant_method: 'bitsandbytes', load_in_4bit: true, bnb_4bit_quant_type: 'nf4' } },
  gptq: { config: { quant_method: 'gptq', bits: 4, group_size: 128 } },
  'gptq-ct': { config: { quant_method: 'gptq', bits: 4, group_size: 128 }, format: 'compressed-tensors' },
  'awq-ct': { config: { quant_method: 'awq', bits: 4, group_size: 128, zero_point: true, version: 'gemm' }, format: 'compressed-tensors' },
};

export function gpuQuantizeJobs(model = require(join(here, '..', '..', 'out', 'native', 'model', 'index.js'))) {
  return Object.fromEntries(
    Object.entries(GPU_QUANTIZE_JOBS).map(([name, { config, format }]) => {
      const { dataset: _dataset, ...plan } = model.planFromConfig(config);
      const recipe = model.pythonBackendRecipe(plan, config, format);
      return [name, { plan, config, recipe, ...(format ? { format } : {}) }];
    }),
  );
}

export const JOBS_FILE = join(here, '_gpu_quantize_7b_jobs.json');

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(JOBS_FILE, `${JSON.stringify(gpuQuantizeJobs(), null, 2)}\n`);
  process.stderr.write(`wrote ${JOBS_FILE}\n`);
}
