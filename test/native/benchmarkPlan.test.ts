// A benchmark job's options become a plan before any heavy work: defaults on the demo model, labels, and an
// error naming the option for each mistake.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { JobFailure } from '../../native/worker/jobFailure';
import type { JsonObject } from '../../native/worker/protocol';
import { benchmarkPlan } from '../../native/worker/handlers/benchmark/plan';

const root = path.join(__dirname, '..', '..', '..');
const demo = path.join(root, 'examples', 'tiny-llama');
const gptq = { quant_method: 'gptq', bits: 4, group_size: 128 };

function plan(options: JsonObject, config?: JsonObject) {
  return benchmarkPlan({ kind: 'benchmark', model: demo, options, ...(config ? { config } : {}) }, demo);
}

function failure(options: JsonObject): [string, string | undefined, string] {
  try {
    plan(options);
  } catch (error) {
    if (error instanceof JobFailure) return [error.code, error.where, error.message];
    throw error;
  }
  assert.fail('the plan was accepted');
}

describe('benchmark plan', () => {
  it('defaults: batch 1 and 16, prompt 512, generation 30 + 30 (30 + 512 needs more than its 512 positions), perplexity over 4096 tokens, 16 calibration samples', () => {
    const p = plan(
      {
        variants: [
          { config: { ...gptq, desc_act: true } },
          { config: { quant_method: 'bitsandbytes', load_in_8bit: true }, name: 'LLM.int8' },
        ],
      },
      gptq,
    );
    assert.deepEqual(
      [p.batchSizes, p.promptLength, p.generate, p.evaluate, p.repeat, p.kvCache],
      [[1, 16], 512, { promptTokens: 30, newTokens: [30] }, { maxTokens: 4096, seq: 256 }, 3, 'fp32'],
    );
    assert.equal(plan({ variants: [], kvCache: 'fp16' }, gptq).kvCache, 'fp16');
    assert.deepEqual(
      p.variants.map((v) => [v.label, v.where, v.description]),
      [
        ['fp16', 'model', { quantization: 'fp16', bits: 16, groupSize: null, actOrder: null }],
        ['gptq 4-bit g128', 'config', { quantization: 'gptq', bits: 4, groupSize: 128, actOrder: false }],
        ['gptq 4-bit g128 act-order', 'options.variants[0]', { quantization: 'gptq', bits: 4, groupSize: 128, actOrder: true }],
        ['LLM.int8', 'options.variants[1]', { quantization: 'int8', bits: 8, groupSize: -1, actOrder: null }],
      ],
    );
    const source = p.variants[1]!.source;
    assert.ok(source.kind === 'config');
    assert.deepEqual(source.calibration, { nsamples: 16, seqlen: 256, seed: 0 });
  });

  it('generation defaults to 30 and 512 new tokens where the model has the positions for both', () => {
    const longer = fs.mkdtempSync(path.join(os.tmpdir(), 'qs-plan-'));
    try {
      const config = JSON.parse(fs.readFileSync(path.join(demo, 'config.json'), 'utf8'));
      fs.writeFileSync(path.join(longer, 'config.json'), JSON.stringify({ ...config, max_position_embeddings: 2048 }));
      fs.symlinkSync(path.join(demo, 'model.safetensors'), path.join(longer, 'model.safetensors'));
      const p = benchmarkPlan({ kind: 'benchmark', model: longer, options: {} }, longer);
      assert.deepEqual(p.generate, { promptTokens: 30, newTokens: [30, 512] });
    } finally {
      fs.rmSync(longer, { recursive: true, force: true });
    }
  });

  it('batch sizes are sorted and deduplicated, newTokens may be a list, repeated labels are numbered', () => {
    const p = plan(
      {
        batchSizes: [16, 1, 16],
        generate: { newTokens: [64, 30, 64] },
        variants: [{ config: gptq }, { config: gptq, calibration: { nsamples: 4 } }],
      },
      gptq,
    );
    assert.deepEqual(p.batchSizes, [1, 16]);
    assert.deepEqual(p.generate.newTokens, [30, 64]);
    assert.deepEqual(
      p.variants.map((v) => v.label),
      ['fp16', 'gptq 4-bit g128', 'gptq 4-bit g128 (2)', 'gptq 4-bit g128 (3)'],
    );
    const last = p.variants[3]!.source;
    assert.ok(last.kind === 'config');
    assert.equal(last.calibration.nsamples, 4);
  });

  it('each mistake names its option', () => {
    assert.deepEqual(failure({ promptLength: 513 }), [
      'INVALID_JOB',
      'options.promptLength',
      'options.promptLength is 513; the model runs at most 512 positions',
    ]);
    assert.deepEqual(failure({ generate: { promptTokens: 500, newTokens: [4, 13] } }), [
      'INVALID_JOB',
      'options.generate',
      'options.generate asks for 500 + 13 tokens; the model runs at most 512 positions',
    ]);
    assert.deepEqual(failure({ generate: { newTokens: 1 } }), [
      'INVALID_JOB',
      'options.generate.newTokens[0]',
      'options.generate.newTokens[0] must be an integer ≥ 2, got 1',
    ]);
    assert.deepEqual(failure({ evaluate: { tokens: 10 } }), [
      'INVALID_JOB',
      'options.evaluate.tokens',
      'options.evaluate.tokens is not an option (known: maxTokens, seq)',
    ]);
    assert.deepEqual(failure({ variants: [{ config: gptq, model: demo }] }), [
      'INVALID_JOB',
      'options.variants[0]',
      'options.variants[0] needs exactly one of "config" (a quantization_config to quantize with) and "model" (a checkpoint folder)',
    ]);
    assert.deepEqual(failure({ variants: [{ config: { ...gptq, desc_act: 'yes' } }] }), [
      'INVALID_JOB',
      'options.variants[0].config',
      'options.variants[0].config: quantization_config.desc_act: must be a boolean (got "yes")',
    ]);
    assert.deepEqual(failure({ variants: [{ model: demo, algorithm: 'rtn' }] }), [
      'INVALID_JOB',
      'options.variants[0]',
      'options.variants[0] is a checkpoint (model) variant; algorithm and calibration apply to config variants only',
    ]);
    const qwen = path.join(root, 'test', 'fixtures', 'qwen2-random');
    assert.deepEqual(failure({ variants: [{ model: qwen }] }), [
      'INVALID_JOB',
      'options.variants[0].model',
      `options.variants[0].model (${qwen}) has a vocabulary of 1000 tokens, the model 4096; variants must share the model's tokenizer`,
    ]);
  });

  it("the backend: the engine by default, python with the runner's interpreter, and the engine's run options refused on python", () => {
    assert.deepEqual(plan({ variants: [] }).backend, { name: 'engine' });
    assert.deepEqual(plan({ variants: [], backend: 'python' }).backend, { name: 'python', python: 'python3' });
    assert.deepEqual(plan({ variants: [], backend: 'python', python: '/venv/bin/python' }).backend, {
      name: 'python',
      python: '/venv/bin/python',
    });
    // the engine's defaults written out are no conflict (the palette's settings may send them)
    assert.equal(plan({ variants: [], backend: 'python', kvCache: 'fp32', lmHead: 'stored' }).backend.name, 'python');
    assert.deepEqual(failure({ variants: [], backend: 'python', kvCache: 'fp16' }), [
      'INVALID_JOB',
      'options.kvCache',
      'options.kvCache is a run option of the engine; the python backend runs the checkpoint as transformers loads it (remove it, or use backend "engine")',
    ]);
    assert.deepEqual(failure({ variants: [], backend: 'python', lmHead: 'int8' })[1], 'options.lmHead');
    assert.equal(plan({ variants: [], backend: 'python', kernel: 'exllama_v2' }).kernel, 'exllama_v2');
    assert.equal(plan({ variants: [], backend: 'python', kernel: 'auto' }).kernel, undefined, "auto is GPTQModel's own pick");
    assert.equal(plan({ variants: [], kernel: 'auto' }).backend.name, 'engine');
    assert.deepEqual(failure({ variants: [], kernel: 'marlin' }), [
      'INVALID_JOB',
      'options.kernel',
      `options.kernel picks GPTQModel's kernel on the python backend; the engine picks its own (remove it, or use backend "python")`,
    ]);
    assert.deepEqual(failure({ variants: [], backend: 'gpu' }), [
      'INVALID_JOB',
      'options.backend',
      'options.backend must be one of engine, python (got "gpu")',
    ]);
  });
});
