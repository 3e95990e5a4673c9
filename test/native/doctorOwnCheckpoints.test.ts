// The checkpoint doctor on checkpoints the engine writes (quantized here from examples/tiny-llama, and AWQ on the Mixtral
// fixture): it reads back the settings they were quantized with and finds nothing wrong; a config edited to disagree is
// caught; it names which loaders take a MoE model's per-expert AWQ Linears.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { quantizeModel } from '../../native/lib/quantize';
import { doctorFolder } from '../../native/model';
import { quantstudio, repoRoot } from '../helpers/cli';

const demo = join(repoRoot, 'examples', 'tiny-llama');

describe('quantstudio doctor on our own checkpoints', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'qs-doctor-own-'));
  after(() => rmSync(scratch, { recursive: true, force: true }));

  const quantize = (name: string, quantization_config: Record<string, unknown>): string => {
    const job = { model: demo, quantization_config, calibration: { dataset: 'wikitext2', nsamples: 4, seqlen: 32, seed: 0 }, output: name };
    writeFileSync(join(scratch, `${name}.quant.json`), JSON.stringify(job));
    const run = quantstudio(['quantize', join(scratch, `${name}.quant.json`)]);
    assert.equal(run.status, 0, run.stderr);
    return join(scratch, name);
  };

  const cases: Array<[string, Record<string, unknown>, Record<string, unknown>]> = [
    [
      'gptq-asym-act-order',
      { quant_method: 'gptq', bits: 4, group_size: 64, sym: false, desc_act: true },
      { quant_method: 'gptq', bits: 4, group_size: 64, sym: false, desc_act: true },
    ],
    [
      'gptq-8bit',
      { quant_method: 'gptq', bits: 8, group_size: 128, sym: true, desc_act: false },
      { quant_method: 'gptq', bits: 8, group_size: 128, sym: true, desc_act: false, checkpoint_format: 'gptq' },
    ],
    [
      'awq-gemm',
      { quant_method: 'awq', bits: 4, group_size: 128, version: 'gemm', zero_point: true },
      { quant_method: 'awq', bits: 4, group_size: 128, version: 'gemm' },
    ],
    [
      'nf4',
      { quant_method: 'bitsandbytes', load_in_4bit: true, bnb_4bit_quant_type: 'nf4' },
      {
        quant_method: 'bitsandbytes',
        load_in_4bit: true,
        load_in_8bit: false,
        bnb_4bit_quant_type: 'nf4',
        bnb_4bit_use_double_quant: false,
      },
    ],
  ];
  for (const [name, config, inferred] of cases) {
    it(`${name}: the tensors say what the job asked for, and the configs agree`, async () => {
      const r = await doctorFolder(quantize(name, config));
      assert.deepEqual(r.inferred?.values, inferred);
      assert.deepEqual(r.findings, []);
      assert.equal(r.inference.modules.length, 28, '4 layers × 7 Linears');
    });
  }

  it('q_group_size 64 in quant_config.json over 128-wide AWQ groups: fixed under its AutoAWQ spelling', async () => {
    const folder = join(scratch, 'awq-gemm');
    const side = join(folder, 'quant_config.json');
    writeFileSync(side, JSON.stringify({ ...JSON.parse(readFileSync(side, 'utf8')), q_group_size: 64 }));
    const r = await doctorFolder(folder);
    assert.deepEqual(
      r.findings.map((f) => [f.file, f.code, f.fix]),
      [['quant_config.json', 'config/group_size', { key: 'q_group_size', value: 128 }]],
    );
    assert.equal(quantstudio(['doctor', folder, '--fix']).status, 0);
    assert.equal(JSON.parse(readFileSync(side, 'utf8')).q_group_size, 128);
  });

  it('sym true written over the asymmetric checkpoint: config/sym, and --fix restores sym false', async () => {
    const folder = join(scratch, 'gptq-asym-act-order');
    const configPath = join(folder, 'config.json');
    const config = JSON.parse(readFileSync(configPath, 'utf8')) as { quantization_config: Record<string, unknown> };
    config.quantization_config.sym = true;
    writeFileSync(configPath, JSON.stringify(config));
    const r = await doctorFolder(folder);
    assert.deepEqual(
      r.findings.map((f) => `${f.file} ${f.code} ${f.severity}`),
      ['config.json config/sym error'],
    );
    assert.equal(quantstudio(['doctor', folder, '--fix']).status, 0);
    assert.equal(JSON.parse(readFileSync(configPath, 'utf8')).quantization_config.sym, false);
  });
});

describe('quantstudio doctor on our AWQ Mixture-of-Experts checkpoint', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'qs-doctor-moe-'));
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it('Mixtral under AWQ: every expert packed, GPTQModel 7.7 loads it and transformers 5.23 (3-D experts) does not', async () => {
    const out = join(scratch, 'mixtral-awq');
    const tokens = Array.from({ length: 512 }, (_, i) => (i * 7919 + 13) % 1000);
    const config = { quant_method: 'awq', bits: 4, group_size: 32, version: 'gemm', zero_point: true };
    await quantizeModel({
      model: join(repoRoot, 'test', 'fixtures', 'mixtral-random'),
      config,
      out,
      calibration: { tokens, nsamples: 8, seqlen: 64 },
    });
    const r = await doctorFolder(out);
    assert.deepEqual(r.findings, []);
    assert.equal(r.inference.modules.length, 2 * (4 + 8 * 3), '2 layers × (4 attention Linears + 8 experts × 3)');
    const verdict = (target: string) => r.targets.find((t) => t.target === target);
    assert.equal(verdict('transformers')?.loads, false);
    assert.match(
      verdict('transformers')!.detail,
      /experts\.0\.down_proj is one quantized Linear per expert; its MoE classes keep routed experts 3-D/,
    );
    assert.equal(verdict('gptqmodel')?.loads, true);
    assert.equal(verdict('quantstudio')?.loads, true);
  });
});
