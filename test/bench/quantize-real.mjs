#!/usr/bin/env node
// Quantizing at a real size: the Llama-3.2-1B shape (test/tools/random-llama.mjs llama-3.2-1b, random fp16 weights)
// with GPTQ 4-bit g128, AWQ 4-bit g128 and NF4 through the job runner as the editor runs them, at the engine's
// default threads. Each row: quantize time predicted (native/model/estimateQuantizeTime.ts) against the measured wall
// time (CPU time and the load average beside it), peak RSS predicted against measured, decode tokens/s (a 27-token
// prompt, 64 new tokens) and perplexity on the first EVAL_TOKENS tokens of WikiText-2 test in windows of 256 (a
// random model's perplexity only says the quantized copy computes what the fp16 one does), beside the fp16 model's.
// Calibration: 128 × 256 tokens when the predictor says the method runs within CALIBRATION_BUDGET_S here, else
// 16 × 256 (the row says which; both predictions are printed).
// Arguments: method names to run a subset (gptq, awq, nf4). Last stdout line: {"name": "quantize-real", "results":
// [...]}; every figure in bench-results/quantize-real.json.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureRealShape } from '../tools/random-llama.mjs';

const require = createRequire(import.meta.url);
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { startJob } = require(join(root, 'out', 'client', 'src', 'jobs', 'runner.js'));
const { predictQuantizeJob } = require(join(root, 'out', 'native', 'worker', 'memoryCheck.js'));

const MiB = 2 ** 20;
const EVAL_TOKENS = 4096;
const CALIBRATION_BUDGET_S = 25 * 60;
const PROMPT = "ROMEO: Is the day so young? O, I am fortune's fool, and yet I know not why I am so sad.";
const METHODS = {
  gptq: { label: 'GPTQ 4-bit g128', config: { quant_method: 'gptq', bits: 4, group_size: 128, desc_act: false, sym: true } },
  awq: { label: 'AWQ 4-bit g128', config: { quant_method: 'awq', bits: 4, group_size: 128, zero_point: true, version: 'gemm' } },
  nf4: { label: 'NF4', config: { quant_method: 'bitsandbytes', load_in_4bit: true, bnb_4bit_quant_type: 'nf4' } },
};
const log = (line) => process.stderr.write(`${line}\n`);
const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ')[0];

const model = ensureRealShape('llama-3.2-1b', log);
const scratch = mkdtempSync(join(tmpdir(), 'qs-quantize-real-'));

async function evaluate(folder) {
  const ppl = await startJob({ kind: 'perplexity', model: folder, options: { maxTokens: EVAL_TOKENS, seq: 256 } });
  const gen = await startJob({ kind: 'generate', model: folder, options: { prompt: PROMPT, maxTokens: 64 } });
  return { perplexity: ppl.metrics.perplexity, decodeTokensPerSecond: gen.metrics.tokensPerSecond, decodeTokens: gen.metrics.tokens };
}

const FULL = { nsamples: 128, seqlen: 256 };
const SHORT = { nsamples: 16, seqlen: 256 };
const calibrated = (config) => config.quant_method !== 'bitsandbytes';
const predict = (config, calibration) =>
  predictQuantizeJob({ kind: 'quantize', model, config, options: { out: scratch, ...(calibration ? { calibration } : {}) } }, model);

async function quantizeRow(key) {
  const { label: name, config } = METHODS[key];
  let calibration;
  let fullPredictedSeconds = null;
  if (calibrated(config)) {
    const full = await predict(config, FULL);
    if (!full.time.ok) throw new Error(`${name}: no time predicted (${full.time.error.message})`);
    fullPredictedSeconds = full.time.value.seconds;
    calibration = fullPredictedSeconds <= CALIBRATION_BUDGET_S ? FULL : SHORT;
    log(`quantize-real: ${name} with 128 × 256 calibration is predicted at ${(fullPredictedSeconds / 60).toFixed(1)} min here`);
  }
  const label = calibration ? `${name} (${calibration.nsamples}×${calibration.seqlen})` : name;
  const out = join(scratch, key);
  const job = { kind: 'quantize', model, config, options: { out, overwrite: true, ...(calibration ? { calibration } : {}) } };
  const predicted = await predict(config, calibration);
  log(`quantize-real: ${label} (predicted ${predicted.time.ok ? `${predicted.time.value.seconds.toFixed(0)} s` : 'no time'}) …`);
  const loadBefore = load();
  const r = await startJob(job);
  const row = {
    label,
    calibration: calibration ?? null,
    loadAverage: `${loadBefore} → ${load()}`,
    threads: r.environment.threads,
    quantizeSeconds: r.metrics.quantizeSeconds,
    quantizeCpuSeconds: r.metrics.quantizeCpuSeconds,
    predictedSeconds: predicted.time.ok ? predicted.time.value.seconds : null,
    fullPredictedSeconds,
    predictedPhases: predicted.time.ok ? predicted.time.value.phases : null,
    peakRssBytes: r.metrics.peakRssBytes,
    predictedPeakBytes: predicted.memory.peakBytes,
    ...(await evaluate(out)),
  };
  rmSync(out, { recursive: true, force: true });
  log(`  ${JSON.stringify(row, (k, v) => (k === 'predictedPhases' ? undefined : v))}`);
  return row;
}

const chosen = process.argv.slice(2);
for (const key of chosen) if (!METHODS[key]) throw new Error(`no method '${key}': use ${Object.keys(METHODS).join(', ')}`);
const fp16 = { label: 'fp16', loadAverage: load(), ...(await evaluate(model)) };
log(`  ${JSON.stringify(fp16)}`);
const rows = [];
for (const key of chosen.length > 0 ? chosen : Object.keys(METHODS)) rows.push(await quantizeRow(key));
rmSync(scratch, { recursive: true, force: true });
mkdirSync(join(root, 'bench-results'), { recursive: true });
writeFileSync(join(root, 'bench-results', 'quantize-real.json'), JSON.stringify({ fp16, rows }, null, 2) + '\n');
console.log(
  JSON.stringify({
    name: 'quantize-real',
    results: [
      { metric: 'fp16 perplexity', value: fp16.perplexity, unit: 'ppl' },
      { metric: 'fp16 decode', value: fp16.decodeTokensPerSecond, unit: 'tokens/s' },
      ...rows.flatMap((r) => [
        { metric: `${r.label} quantize time (load ${r.loadAverage})`, value: r.quantizeSeconds, unit: 's' },
        ...(r.predictedSeconds === null
          ? []
          : [
              {
                metric: `${r.label} predicted/measured time`,
                value: r.predictedSeconds / r.quantizeSeconds,
                unit: 'ratio',
                target: '1 ± 0.3',
              },
            ]),
        {
          metric: `${r.label} predicted/measured peak RSS`,
          value: r.predictedPeakBytes / r.peakRssBytes,
          unit: 'ratio',
          target: '1 ± 0.1',
        },
        { metric: `${r.label} peak RSS`, value: r.peakRssBytes / MiB, unit: 'MiB' },
        { metric: `${r.label} decode`, value: r.decodeTokensPerSecond, unit: 'tokens/s' },
        { metric: `${r.label} perplexity / fp16`, value: r.perplexity / fp16.perplexity, unit: 'ratio' },
      ]),
    ],
  }),
);
