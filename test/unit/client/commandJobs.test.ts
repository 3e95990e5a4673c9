// The pure parts of the job commands: what a benchmark variant is made of for each config-file shape, the
// options each job gets, the progress bar per job kind, what a failure says, and which folders are models.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  benchmarkOptions,
  checkpointVariant,
  configVariant,
  generateOptions,
  perplexityOptions,
  positiveIntegerProblem,
} from '../../../client/src/extension/commands/jobOptions';
import { failureNotice } from '../../../client/src/extension/jobs/failureNotice';
import { ProgressBridge } from '../../../client/src/extension/jobs/progressBridge';
import { modelFolders, readModelFolder } from '../../../client/src/extension/pick/modelFolders';
import { JobCancelledError, JobCrashedError, JobError } from '../../../client/src/jobs/errors';
import { configVariantOf, quantizedCheckpointOf } from '../../../client/src/jobs';

const root = path.join(__dirname, '..', '..', '..', '..');
const configs = path.join(root, 'examples', 'configs');
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'qs-command-jobs-'));
process.on('exit', () => fs.rmSync(scratch, { recursive: true, force: true }));

test('a benchmark variant from each config-file shape carries its quantization_config', () => {
  const job = JSON.parse(fs.readFileSync(path.join(configs, 'tiny-llama-gptq.quant.json'), 'utf8')) as { quantization_config: object };
  assert.deepEqual(configVariant(path.join(configs, 'tiny-llama-gptq.quant.json')), {
    name: 'tiny-llama-gptq',
    config: job.quantization_config,
  });
  const autoGptq = JSON.parse(fs.readFileSync(path.join(configs, 'gptq-checkpoint', 'quantize_config.json'), 'utf8')) as object;
  // a file name that says nothing of the variant: the worker labels it by method, bits and group size
  assert.deepEqual(configVariant(path.join(configs, 'gptq-checkpoint', 'quantize_config.json')), { config: autoGptq });
  const awq = configVariant(path.join(configs, 'awq-checkpoint', 'quant_config.json'));
  assert.ok(typeof awq === 'object' && 'config' in awq);
  assert.equal(awq.config.quant_method, 'awq');
  assert.equal(awq.config.w_bit, 4);

  const rtn = path.join(scratch, 'rtn.quant.json');
  fs.writeFileSync(
    rtn,
    JSON.stringify({ model: '../m', algorithm: 'rtn', quantization_config: { quant_method: 'gptq', bits: 4, group_size: 64 } }),
  );
  assert.deepEqual(configVariant(rtn), { name: 'rtn', config: { quant_method: 'gptq', bits: 4, group_size: 64 }, algorithm: 'rtn' });
});

test("a quantized checkpoint's own config file is the checkpoint as it is, never a config to quantize it again", () => {
  const checkpoint = path.join(scratch, 'gptq-8bit-g32');
  fs.cpSync(path.join(root, 'test', 'fixtures', 'model-aware', 'gptq-8bit-g32'), checkpoint, { recursive: true });
  const configJson = path.join(checkpoint, 'config.json');
  assert.deepEqual(
    configVariant(configJson),
    { name: 'gptq-8bit-g32', model: checkpoint },
    'config.json with a quantization_config beside the weights',
  );
  fs.writeFileSync(path.join(checkpoint, 'quantize_config.json'), JSON.stringify({ bits: 8, group_size: 32 }));
  assert.deepEqual(configVariant(path.join(checkpoint, 'quantize_config.json')), { name: 'gptq-8bit-g32', model: checkpoint });
  assert.deepEqual(
    configVariantOf(path.join(checkpoint, 'quantize_config.json')),
    { model: checkpoint },
    'quantstudio benchmark --config does the same',
  );
  assert.equal(
    quantizedCheckpointOf(path.join(configs, 'gptq-checkpoint', 'quantize_config.json')),
    undefined,
    'no weights beside it: a config',
  );
});

test('a file without a quantization config is an error naming it, not a variant', () => {
  const plain = path.join(scratch, 'settings.json');
  fs.writeFileSync(plain, '{"editor.tabSize": 2}');
  assert.equal(
    configVariant(plain),
    `${plain}: no quantization config found (expected quantization_config, quant_method, AutoGPTQ's bits or AutoAWQ's w_bit)`,
  );
  const cut = path.join(scratch, 'cut.quant.json');
  fs.writeFileSync(cut, '{"model": ');
  assert.match(String(configVariant(cut)), new RegExp(`^${cut.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: cannot read it as JSON \\(`));
});

test('job options: benchmark variants and batch sizes, generate sampling, perplexity text', () => {
  assert.deepEqual(checkpointVariant('/w/.quantstudio/models/tiny-llama-gptq'), {
    name: 'tiny-llama-gptq',
    model: '/w/.quantstudio/models/tiny-llama-gptq',
  });
  assert.deepEqual(benchmarkOptions([{ name: 'q', model: '/q' }], [1, 16]), {
    variants: [{ name: 'q', model: '/q' }],
    batchSizes: [1, 16],
  });
  assert.deepEqual(generateOptions('ROMEO:', 32, { maxTokens: 64, temperature: 0.8, topK: 40, topP: 0.95, seed: 7 }), {
    prompt: 'ROMEO:',
    maxTokens: 32,
    temperature: 0.8,
    topK: 40,
    topP: 0.95,
    seed: 7,
  });
  assert.deepEqual(perplexityOptions(undefined), { seq: 256 });
  assert.deepEqual(perplexityOptions('/t/a.txt'), { text: '/t/a.txt', seq: 256 });
  assert.equal(positiveIntegerProblem('32'), undefined);
  for (const bad of ['0', '-3', '2.5', '', 'ten']) assert.equal(positiveIntegerProblem(bad), 'Enter a whole number of 1 or more.', bad);
});

test('the progress bar of generate and perplexity jobs moves forward to 100%', () => {
  const generate = new ProgressBridge('generate');
  const g = [
    { phase: 'load', current: 0, total: 1 },
    { phase: 'load', current: 1, total: 1 },
    { phase: 'generate', current: 0, total: 64 },
    { phase: 'generate', current: 64, total: 64 },
  ].map((p) => generate.step(p));
  assert.deepEqual(
    g.map((s) => Math.round(s.increment)),
    [0, 10, 0, 90],
  );
  const perplexity = new ProgressBridge('perplexity');
  const p = [
    { phase: 'tokenize', current: 1, total: 1 },
    { phase: 'load', current: 1, total: 1 },
    { phase: 'perplexity', current: 4, total: 8 },
    { phase: 'perplexity', current: 8, total: 8 },
  ].map((e) => perplexity.step(e));
  assert.deepEqual(
    p.map((s) => Math.round(s.increment)),
    [5, 5, 45, 45],
  );
  assert.equal(p[2].short, 'perplexity 4/8');
});

test("a benchmark bar follows the worker's overall fraction and never goes back", () => {
  const bridge = new ProgressBridge('benchmark');
  const steps = [0.1, 0.05, 0.5, 1].map((overall) => bridge.step({ phase: 'measure fp16 bs1', current: 1, total: 4, overall }));
  assert.deepEqual(
    steps.map((s) => Math.round(s.increment * 10) / 10),
    [10, 0, 40, 50],
  );
  assert.equal(steps[0].short, 'measure fp16 bs1 1/4');
});

test('failures: a cancel is information, an engine error names what and where (a missing token offers to set one), a crash offers the log', () => {
  const cancelled = failureNotice(new JobCancelledError(), {
    noun: 'Quantization',
    output: { folder: '/o', existedBefore: false, existsNow: false },
  });
  assert.deepEqual(cancelled, {
    severity: 'info',
    message: 'Quantization cancelled; no output was written.',
    log: 'Quantization cancelled; no output was written.',
    showLog: false,
  });
  const late = failureNotice(new JobCancelledError(), {
    noun: 'Quantization',
    output: { folder: '/o', existedBefore: false, existsNow: true },
  });
  assert.equal(late.message, 'Quantization cancelled after the output was written to /o.');
  const reported = failureNotice(new JobError({ code: 'MODEL_NOT_FOUND', message: 'model folder not found: /m', where: '/m' }), {
    noun: 'Benchmark',
  });
  assert.deepEqual(reported, {
    severity: 'error',
    message: 'QuantStudio: benchmark failed: model folder not found: /m (/m)',
    log: 'MODEL_NOT_FOUND: model folder not found: /m (/m)',
    showLog: true,
  });
  const gated = failureNotice(new JobError({ code: 'NEEDS_TOKEN', message: 'the model needs a Hugging Face token' }), {
    noun: 'Generation',
  });
  assert.deepEqual(gated.fix, { title: 'Set Hugging Face Token', command: 'quantstudio.setHubToken' });
  assert.equal(reported.fix, undefined);
  const crashed = failureNotice(new JobCrashedError(null, 'SIGSEGV', ['loading layer 3']), { noun: 'Generation' });
  assert.equal(
    crashed.message,
    "QuantStudio: generation failed: the job's worker process was killed by SIGSEGV without finishing the job.",
  );
  assert.match(crashed.log, /loading layer 3$/);
  assert.equal(crashed.showLog, true);
});

test('model folders: config.json beside safetensors; quantized checkpoints name their method', () => {
  assert.deepEqual(readModelFolder(path.join(root, 'examples', 'tiny-llama')), {
    folder: path.join(root, 'examples', 'tiny-llama'),
    quantMethod: undefined,
  });
  const gptq = path.join(root, 'test', 'fixtures', 'model-aware', 'gptq-8bit-g32');
  assert.deepEqual(readModelFolder(gptq), { folder: gptq, quantMethod: 'gptq' });
  assert.equal(readModelFolder(path.join(configs, 'gptq-checkpoint')), undefined, 'config.json without weights');
  assert.equal(readModelFolder(path.join(scratch, 'missing')), undefined);
  const found = modelFolders(
    [path.join(gptq, 'config.json'), path.join(configs, 'gptq-checkpoint', 'config.json')],
    [path.join(root, 'examples', 'tiny-llama'), gptq],
  );
  assert.deepEqual(
    found.map((m) => path.relative(root, m.folder)),
    ['test/fixtures/model-aware/gptq-8bit-g32', 'examples/tiny-llama'],
  );
});

test("model folders: the extension's demo model is left out when the workspace holds a copy of it", () => {
  const demo = path.join(root, 'examples', 'tiny-llama');
  const copy = path.join(scratch, 'workspace', 'examples', 'tiny-llama');
  fs.cpSync(demo, copy, { recursive: true });
  const found = modelFolders([path.join(copy, 'config.json')], [demo]);
  assert.deepEqual(
    found.map((m) => m.folder),
    [copy],
    'one entry, the workspace path a run records',
  );
  // a folder with the same config but other weights is another model
  const other = path.join(scratch, 'workspace', 'retrained');
  fs.cpSync(demo, other, { recursive: true });
  fs.appendFileSync(path.join(other, 'model.safetensors'), Buffer.alloc(8));
  assert.deepEqual(
    modelFolders([path.join(other, 'config.json')], [demo]).map((m) => m.folder),
    [other, demo],
  );
});
