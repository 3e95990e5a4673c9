// `quantstudio quantize` as a user runs it: a job file (paths relative to it) or --model/--config/--out,
// the checkpoint written in place of nothing until it is complete, and clear errors for bad input.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { quantstudio, repoRoot } from '../helpers/cli';
import { parseShardSize } from '../../client/src/jobs/quantizeJobFile';
import { RuntimeModel } from '../../native/lib/runtime';
import type { RunResult } from '../../native/worker/protocol';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';

const repo = repoRoot;
const demo = join(repo, 'examples', 'tiny-llama');

describe('quantstudio quantize', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'qs-cli-quantize-'));
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it('runs a job file: GPTQ with calibration, perplexity before/after and a sample, paths relative to the file', async () => {
    const jobDir = join(scratch, 'jobs');
    mkdirSync(jobDir);
    const job = {
      model: demo,
      quantization_config: { quant_method: 'gptq', bits: 4, group_size: 128, sym: true, desc_act: false },
      calibration: { dataset: 'wikitext2', nsamples: 8, seqlen: 64, seed: 0 },
      output: 'out/gptq',
      options: { evaluate: { before: true, after: true, maxTokens: 512, seq: 128 }, generate: { prompt: 'ROMEO:', maxTokens: 8 } },
    };
    writeFileSync(join(jobDir, 'tiny.quant.json'), JSON.stringify(job));
    const run = quantstudio(['quantize', join(jobDir, 'tiny.quant.json'), '--json']);
    assert.equal(run.status, 0, run.stderr);
    const result = JSON.parse(run.stdout) as {
      kind: string;
      output: { folder: string; bytes: number };
      metrics: Record<string, number>;
      text: string;
    };
    const out = join(jobDir, 'out', 'gptq');
    assert.equal(result.kind, 'quantize');
    assert.equal(result.output.folder, out);
    assert.deepEqual(readdirSync(join(jobDir, 'out')), ['gptq'], 'no temp folder is left next to the output');
    const written = readdirSync(out).sort();
    for (const f of ['config.json', 'model.safetensors', 'quantize_config.json', 'tokenizer.json'])
      assert.ok(written.includes(f), `${f} missing`);
    const sizes = written.reduce((sum, f) => sum + readFileSync(join(out, f)).length, 0);
    assert.equal(result.output.bytes, sizes);
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as { quantization_config: Record<string, unknown> };
    assert.equal(config.quantization_config.quant_method, 'gptq');
    assert.equal(config.quantization_config.bits, 4);
    assert.equal(config.quantization_config.group_size, 128);
    assert.equal(result.metrics.evaluationTokens, 512);
    assert.ok(
      result.metrics.perplexityAfter > result.metrics.perplexityBefore * 0.97 &&
        result.metrics.perplexityAfter < result.metrics.perplexityBefore * 1.1,
      `4-bit GPTQ perplexity ${result.metrics.perplexityAfter} vs fp16 ${result.metrics.perplexityBefore}`,
    );
    assert.equal(result.metrics.perplexityDelta, result.metrics.perplexityAfter - result.metrics.perplexityBefore);
    assert.ok(result.text.length > 0, 'a sample was generated');
    // The checkpoint opens in the runtime through its quantized layers.
    const logits = await RuntimeModel.open(out).logits([0, 5, 9]);
    assert.equal(logits.length, 3 * 4096);
  });

  it('--model/--config/--out with an AutoAWQ-style file is not needed for bitsandbytes: NF4 from a bare quantization_config', () => {
    const configFile = join(scratch, 'nf4.json');
    writeFileSync(
      configFile,
      JSON.stringify({ quant_method: 'bitsandbytes', load_in_4bit: true, bnb_4bit_quant_type: 'nf4', bnb_4bit_use_double_quant: true }),
    );
    const out = join(scratch, 'nf4');
    const run = quantstudio(['quantize', '--model', demo, '--config', configFile, '--out', out]);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`^wrote ${out} \\([0-9.]+ MiB\\) in [0-9.]+ s$`, 'm'));
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as { quantization_config: Record<string, unknown> };
    assert.equal(config.quantization_config.bnb_4bit_quant_type, 'nf4');
    assert.equal(config.quantization_config.load_in_4bit, true);
  });

  it('refuses a non-empty output folder and a config the model cannot take, leaving nothing behind', () => {
    const occupied = join(scratch, 'occupied');
    mkdirSync(occupied);
    writeFileSync(join(occupied, 'keep.txt'), 'mine');
    const configFile = join(scratch, 'gptq.json');
    writeFileSync(configFile, JSON.stringify({ quant_method: 'gptq', bits: 4, group_size: 128 }));
    const busy = quantstudio(['quantize', '--model', demo, '--config', configFile, '--out', occupied, '--algorithm', 'rtn']);
    assert.equal(busy.status, 1);
    assert.match(busy.stderr, /quantstudio quantize: .*occupied.*/);
    assert.equal(readFileSync(join(occupied, 'keep.txt'), 'utf8'), 'mine');

    const badGroups = join(scratch, 'g100.json');
    writeFileSync(badGroups, JSON.stringify({ quant_method: 'gptq', bits: 4, group_size: 100 }));
    const out = join(scratch, 'g100');
    const bad = quantstudio(['quantize', '--model', demo, '--config', badGroups, '--out', out, '--algorithm', 'rtn']);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /quantstudio quantize: .*100.*/);
    assert.match(bad.stderr, /model\.layers\.0\.self_attn\.q_proj|q_proj/);
    assert.ok(!existsSync(out), 'no output folder after a failed run');
    assert.deepEqual(
      readdirSync(scratch).filter((f) => f.includes('.tmp-')),
      [],
    );
  });
});

describe('quantstudio quantize with mixedPrecision', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'qs-cli-mixed-'));
  after(() => rmSync(scratch, { recursive: true, force: true }));
  const jobFile = (name: string, extra: object): string => {
    const file = join(scratch, `${name}.quant.json`);
    const job = {
      model: demo,
      quantization_config: { quant_method: 'gptq', bits: 3, group_size: 128, sym: false, desc_act: false },
      calibration: { nsamples: 8, seqlen: 64 },
      output: `out-${name}`,
      ...extra,
    };
    writeFileSync(file, JSON.stringify(job));
    return file;
  };

  it('widens the layers the measurement picks, says so, and the run result (schema-valid) carries the allocation', () => {
    const file = jobFile('auto', { mixedPrecision: { bitsPerWeight: 3.5, samples: 2 } });
    const json = quantstudio(['quantize', file, '--json']);
    assert.equal(json.status, 0, json.stderr);
    const result = JSON.parse(json.stdout) as RunResult;
    const ajv = new Ajv({ allErrors: true, strict: true });
    addFormats(ajv);
    const validate = ajv.compile(JSON.parse(readFileSync(join(repo, 'schemas', 'run-result.schema.json'), 'utf8')));
    assert.ok(validate(result), JSON.stringify(validate.errors));
    const a = result.allocation!;
    assert.deepEqual([a.target, a.baseBits, a.wideBits, a.samples], [3.5, 3, 4, 2]);
    const widened = a.layers.filter((l) => l.widened).map((l) => l.layer);
    assert.equal(widened.length, 1);
    const written = JSON.parse(readFileSync(join(scratch, 'out-auto', 'config.json'), 'utf8')) as {
      quantization_config: { dynamic: object };
    };
    assert.deepEqual(Object.keys(written.quantization_config.dynamic), [`+:${widened[0]!.replace(/\./g, '\\.')}\\..*`]);

    const text = quantstudio(['quantize', file, '--overwrite']);
    assert.equal(text.status, 0, text.stderr);
    assert.match(
      text.stdout,
      new RegExp(
        `mixed precision: ${widened[0]!.replace(/\./g, '\\.')} at 4 bits, the rest at 3: ${a.bitsPerWeight.toFixed(2).replace('.', '\\.')} bits per weight \\(budget 3\\.5\\)`,
      ),
    );
  });

  it('refuses a mistyped field and the python backend, leaving nothing', () => {
    const typo = quantstudio(['quantize', jobFile('typo', { mixedPrecision: { bitsPerWeight: '3.5' } })]);
    assert.equal(typo.status, 1);
    assert.match(typo.stderr, /options\.mixedPrecision\.bitsPerWeight must be a positive number of bits per weight, got "3\.5"/);
    const python = quantstudio([
      'quantize',
      jobFile('python', { mixedPrecision: { bitsPerWeight: 3.5 } }),
      '--backend',
      'python',
      '--python',
      process.execPath,
    ]);
    assert.equal(python.status, 1);
    assert.match(
      python.stderr,
      /options\.mixedPrecision is measured and allocated by the engine; GPTQModel 7\.7 takes widths only as written in dynamic/,
    );
    for (const name of ['typo', 'python']) assert.ok(!existsSync(join(scratch, `out-${name}`)));
  });
});

describe('quantstudio quantize with signRound', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'qs-cli-sign-round-'));
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it('tunes each layer, reports its output error before and after (schema-valid), and says how far it fell', () => {
    const file = join(scratch, 'tuned.quant.json');
    const job = {
      model: demo,
      quantization_config: { quant_method: 'gptq', bits: 3, group_size: 128, sym: false, checkpoint_format: 'gptq_v2' },
      calibration: { nsamples: 8, seqlen: 64 },
      signRound: { iters: 12, batchSize: 2 },
      output: 'out-tuned',
    };
    writeFileSync(file, JSON.stringify(job));
    const json = quantstudio(['quantize', file, '--json']);
    assert.equal(json.status, 0, json.stderr);
    const result = JSON.parse(json.stdout) as RunResult;
    const ajv = new Ajv({ allErrors: true, strict: true });
    addFormats(ajv);
    const validate = ajv.compile(JSON.parse(readFileSync(join(repo, 'schemas', 'run-result.schema.json'), 'utf8')));
    assert.ok(validate(result), JSON.stringify(validate.errors));
    const tuned = result.layers!.map((l) => l.signRound!);
    assert.equal(tuned.length, 4);
    for (const t of tuned) assert.ok(t.bestLoss < t.startLoss && t.bestIteration < 12, JSON.stringify(t));
    const mean = tuned.reduce((sum, t) => sum + t.bestLoss / t.startLoss, 0) / tuned.length;

    const text = quantstudio(['quantize', file, '--overwrite']);
    assert.equal(text.status, 0, text.stderr);
    assert.match(
      text.stdout,
      new RegExp(
        `signRound: each layer's output error ${((1 - mean) * 100).toFixed(1).replace('.', '\\.')} % below round-to-nearest's on average`,
      ),
    );
  });
});

describe('quantstudio quantize --backend', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'qs-cli-backend-'));
  after(() => rmSync(scratch, { recursive: true, force: true }));
  const config = (name: string, value: object): string => {
    const file = join(scratch, `${name}.json`);
    writeFileSync(file, JSON.stringify(value));
    return file;
  };
  const gptq = { quant_method: 'gptq', bits: 4, group_size: 128 };

  it('names the backends it knows, an interpreter that is not there, and a method the python backend does not run', () => {
    const outs = ['b-unknown', 'b-nopython', 'b-awq'].map((n) => join(scratch, n));
    const unknown = quantstudio(['quantize', '--model', demo, '--config', config('b-gptq', gptq), '--out', outs[0], '--backend', 'gpu']);
    assert.equal(unknown.status, 1);
    assert.match(unknown.stderr, /options\.backend must be one of engine, python \(got "gpu"\)/);

    const missing = join(scratch, 'no-such-venv', 'bin', 'python');
    const nf4 = config('b-nf4', { quant_method: 'bitsandbytes', load_in_4bit: true });
    const noPython = quantstudio([
      'quantize',
      '--model',
      demo,
      '--config',
      nf4,
      '--out',
      outs[1],
      '--backend',
      'python',
      '--python',
      missing,
    ]);
    assert.equal(noPython.status, 1);
    assert.match(noPython.stderr, new RegExp(`the Python interpreter "${missing.replace(/[.]/g, '\\.')}" was not found`));

    const rtn = { quant_method: 'gptq', bits: 4, group_size: 128 };
    const refused = quantstudio([
      'quantize',
      '--model',
      demo,
      '--config',
      config('b-rtn', rtn),
      '--out',
      outs[2],
      '--backend',
      'python',
      '--algorithm',
      'rtn',
    ]);
    assert.equal(refused.status, 1);
    assert.match(
      refused.stderr,
      /the python backend quantizes GPTQ and AWQ \(GPTQModel 7\.7\) and bitsandbytes \(NF4, FP4, int8\) configs; algorithm rtn runs on backend "engine"/,
    );
    for (const out of outs) assert.ok(!existsSync(out), `${out} exists after a failed run`);
    assert.deepEqual(
      readdirSync(scratch).filter((f) => f.includes('.tmp-')),
      [],
    );
  });

  it('takes --format compressed-tensors on the python backend only, and no other format', () => {
    const out = join(scratch, 'b-format');
    const args = ['quantize', '--model', demo, '--config', config('b-format', gptq), '--out', out];
    const onEngine = quantstudio([...args, '--format', 'compressed-tensors']);
    assert.equal(onEngine.status, 1);
    assert.match(
      onEngine.stderr,
      /options\.format "compressed-tensors" is written by llm-compressor on the python backend; the engine writes the method's own format/,
    );
    const unknown = quantstudio([...args, '--format', 'gguf', '--backend', 'python', '--python', process.execPath]);
    assert.equal(unknown.status, 1);
    assert.match(unknown.stderr, /options\.format must be "compressed-tensors", got "gguf"/);
    assert.ok(!existsSync(out));
  });
});

describe('job file shard sizes', () => {
  it('reads transformers-style sizes and rejects nonsense', () => {
    assert.equal(parseShardSize('5GB'), 5e9);
    assert.equal(parseShardSize('500MB'), 5e8);
    assert.equal(parseShardSize('2GiB'), 2 * 2 ** 30);
    assert.equal(parseShardSize('1.5 GB'), 1.5e9);
    assert.equal(parseShardSize(4096), 4096);
    assert.equal(parseShardSize('lots'), undefined);
    assert.equal(parseShardSize(-1), undefined);
  });

  it('a small maxShardSize writes shards with an index', () => {
    const scratch = mkdtempSync(join(tmpdir(), 'qs-cli-shards-'));
    try {
      const jobFile = join(scratch, 'sharded.quant.json');
      writeFileSync(
        jobFile,
        JSON.stringify({
          model: demo,
          algorithm: 'rtn',
          output: 'out',
          quantization_config: { quant_method: 'gptq', bits: 4, group_size: 128 },
          options: { maxShardSize: '2MB' },
        }),
      );
      const run = quantstudio(['quantize', jobFile]);
      assert.equal(run.status, 0, run.stderr);
      const files = readdirSync(join(scratch, 'out'))
        .filter((f) => f.includes('safetensors'))
        .sort();
      assert.ok(files.includes('model.safetensors.index.json'), files.join(', '));
      assert.ok(files.filter((f) => /^model-\d{5}-of-\d{5}\.safetensors$/.test(f)).length >= 2, files.join(', '));
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });
});
