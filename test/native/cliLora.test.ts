// A PEFT LoRA adapter through the CLI and the job runner: --adapter on generate, perplexity and benchmark, and a
// job file's adapter on quantize (merge then quantize); each run equals the in-process engine with the same adapter
// and records the adapter by its folder's name.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { quantstudio, repoRoot } from '../helpers/cli';
import { generateText } from '../../native/lib/generate';
import { readSafetensorsHeader, readTensor } from '../../native/lib/io';
import { textPerplexity } from '../../native/lib/perplexity';
import { quantizeModel } from '../../native/lib/quantize';
import { RuntimeModel } from '../../native/lib/runtime';
import { TextTokenizer } from '../../native/lib/tokenizer';

const demo = join(repoRoot, 'examples', 'tiny-llama');
const adapter = join(repoRoot, 'test', 'fixtures', 'lora', 'tiny-llama-r8');
const record = {
  name: 'tiny-llama-r8',
  rank: 8,
  alpha: 16,
  rslora: false,
  targetModules: ['down_proj', 'gate_proj', 'k_proj', 'o_proj', 'q_proj', 'up_proj', 'v_proj'],
  modules: 28,
};
const ajv = new Ajv({ allErrors: true, strict: true });
addFormats(ajv);
const validateRunResult = ajv.compile(JSON.parse(readFileSync(join(repoRoot, 'schemas', 'run-result.schema.json'), 'utf8')));

describe('quantstudio with a LoRA adapter', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'qs-cli-lora-'));
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it("generate --adapter streams the adapted model's greedy text and records the adapter", async () => {
    const adapted = RuntimeModel.open(demo, { adapter });
    const expected = await generateText(adapted, TextTokenizer.load(demo), { prompt: 'ROMEO:', maxTokens: 16 });
    const plain = await generateText(RuntimeModel.open(demo), TextTokenizer.load(demo), { prompt: 'ROMEO:', maxTokens: 16 });
    assert.notEqual(expected.text, plain.text, 'the adapter changes the greedy text');
    const json = quantstudio(['generate', '--model', demo, '--prompt', 'ROMEO:', '--max-tokens', '16', '--adapter', adapter, '--json']);
    assert.equal(json.status, 0, json.stderr);
    const out = JSON.parse(json.stdout) as { text: string; run: Record<string, unknown> };
    assert.equal(out.text, expected.text);
    assert.deepEqual(out.run.adapter, record);
    assert.ok(validateRunResult(out.run), JSON.stringify(validateRunResult.errors));
  });

  it('perplexity --adapter equals the in-process protocol on the adapted model', async () => {
    const text = join(scratch, 'text.txt');
    writeFileSync(text, 'The history of the city begins in the Roman period , when a fort was built on the river . '.repeat(20));
    const run = quantstudio(['perplexity', '--model', demo, '--text', text, '--seq', '64', '--adapter', adapter, '--json']);
    assert.equal(run.status, 0, run.stderr);
    const out = JSON.parse(run.stdout) as { perplexity: number; run: { adapter: unknown } };
    const tokenizer = TextTokenizer.load(demo);
    const expected = await textPerplexity(RuntimeModel.open(demo, { adapter }), tokenizer, readFileSync(text, 'utf8'), { seq: 64 });
    const base = await textPerplexity(RuntimeModel.open(demo), tokenizer, readFileSync(text, 'utf8'), { seq: 64 });
    assert.ok(Math.abs(out.perplexity - expected.perplexity) < 1e-9, `${out.perplexity} vs ${expected.perplexity}`);
    assert.notEqual(expected.perplexity, base.perplexity);
    assert.deepEqual(out.run.adapter, record);
  });

  it("a job file's adapter on quantize merges then quantizes: the checkpoint equals the in-process merge, the run records it", async () => {
    const jobDir = join(scratch, 'jobs');
    mkdirSync(jobDir);
    const config = { quant_method: 'gptq', bits: 8, group_size: 128, sym: true, desc_act: false };
    // Paths relative to the job file.
    writeFileSync(
      join(jobDir, 'merge.quant.json'),
      JSON.stringify({ model: demo, quantization_config: config, algorithm: 'rtn', output: 'out/merged', adapter: adapter }),
    );
    const run = quantstudio(['quantize', join(jobDir, 'merge.quant.json'), '--json']);
    assert.equal(run.status, 0, run.stderr);
    const result = JSON.parse(run.stdout) as Record<string, unknown>;
    assert.deepEqual(result.adapter, record);
    assert.ok(validateRunResult(result), JSON.stringify(validateRunResult.errors));
    const expectedDir = join(scratch, 'in-process');
    await quantizeModel({ model: demo, config, algorithm: 'rtn', out: expectedDir, adapter });
    const a = join(jobDir, 'out', 'merged', 'model.safetensors');
    const b = join(expectedDir, 'model.safetensors');
    for (const { name } of readSafetensorsHeader(b).tensors)
      assert.ok(Buffer.from(readTensor(a, name).data.buffer).equals(Buffer.from(readTensor(b, name).data.buffer)), name);
  });

  it('benchmark --adapter measures every variant with the adapter: its perplexity moves, the run records the adapter', () => {
    const small = [
      '--batch',
      '1',
      '--prompt-length',
      '16',
      '--prompt-tokens',
      '8',
      '--new-tokens',
      '4',
      '--repeat',
      '1',
      '--eval-tokens',
      '256',
    ];
    const runs = [[], ['--adapter', adapter]].map((extra) => {
      const run = quantstudio(['benchmark', '--model', demo, ...small, ...extra, '--json']);
      assert.equal(run.status, 0, run.stderr);
      return JSON.parse(run.stdout) as { adapter?: unknown; metrics: { perplexity: number }; rows: unknown[] };
    });
    assert.equal(runs[0].adapter, undefined);
    assert.deepEqual(runs[1].adapter, record);
    assert.ok(runs[1].rows.length > 0);
    assert.ok(
      Math.abs(runs[1].metrics.perplexity - runs[0].metrics.perplexity) > 1,
      `${runs[1].metrics.perplexity} vs ${runs[0].metrics.perplexity}`,
    );
  });

  it('a bad adapter fails the job naming the file; the python backend refuses an adapter', () => {
    const broken = join(scratch, 'broken');
    mkdirSync(broken);
    writeFileSync(join(broken, 'adapter_config.json'), JSON.stringify({ peft_type: 'LORA', r: 8, lora_alpha: 16, use_dora: true }));
    const run = quantstudio(['generate', '--model', demo, '--prompt', 'ROMEO:', '--max-tokens', '4', '--adapter', broken]);
    assert.notEqual(run.status, 0);
    assert.match(run.stderr, /broken\/adapter_config\.json: use_dora: DoRA \(weight-decomposed LoRA\) is not supported/);
    const python = quantstudio(['generate', '--model', demo, '--prompt', 'ROMEO:', '--adapter', adapter, '--backend', 'python']);
    assert.notEqual(python.status, 0);
    assert.match(python.stderr, /options\.adapter is applied by the engine; the python backend does not load adapters/);
  });
});
