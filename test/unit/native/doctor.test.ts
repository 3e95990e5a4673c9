// The checkpoint doctor on the upstream-written checkpoints (GPTQModel 7.7, bitsandbytes 0.50) and on copies
// with one thing broken each: the exact finding, and that `quantstudio doctor --fix` leaves a folder it passes.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { doctorFolder } from '../../../native/model';
import type { DoctorReport } from '../../../native/model';
import { quantstudio, repoRoot } from '../../helpers/cli';
import { copyCheckpoint, editConfigs, editTensor, readSafetensors, repackGptq, writeSafetensors } from './doctorCheckpoints';

const fixtures = join(repoRoot, 'test', 'fixtures', 'upstream-written');
const gptq = join(fixtures, 'gptq-4bit-g128');
const descAct = join(fixtures, 'gptq-4bit-g128-desc-act');
const nf4 = join(fixtures, 'bnb-nf4-double-quant');

const codes = (r: DoctorReport): string[] => r.findings.map((f) => `${f.file ?? '-'} ${f.code}`);

describe('quantstudio doctor', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'qs-doctor-'));
  after(() => rmSync(scratch, { recursive: true, force: true }));
  let n = 0;
  const copy = (from: string): string => copyCheckpoint(from, join(scratch, `c${n++}`));

  /** --fix writes the corrected configs; the doctor then finds no config error and the data is untouched. */
  const fixAndRecheck = async (folder: string): Promise<DoctorReport> => {
    const weights = readFileSync(join(folder, 'model.safetensors'));
    const run = quantstudio(['doctor', folder, '--fix']);
    assert.match(run.stdout, /^wrote corrected config\.json/, run.stderr);
    assert.deepEqual(readFileSync(join(folder, 'model.safetensors')), weights, 'the weights are never rewritten');
    const after = await doctorFolder(folder);
    assert.deepEqual(
      after.findings.filter((f) => f.code.startsWith('config/')),
      [],
    );
    return after;
  };

  it('reads the upstream checkpoints as written: settings from the tensors match their configs', async () => {
    const expected: Record<string, Record<string, unknown>> = {
      'gptq-4bit-g128': { quant_method: 'gptq', bits: 4, group_size: 128, sym: true, desc_act: false, checkpoint_format: 'gptq' },
      'gptq-4bit-g128-desc-act': { quant_method: 'gptq', bits: 4, group_size: 128, sym: true, desc_act: true, checkpoint_format: 'gptq' },
      'bnb-nf4-double-quant': {
        quant_method: 'bitsandbytes',
        load_in_4bit: true,
        load_in_8bit: false,
        bnb_4bit_quant_type: 'nf4',
        bnb_4bit_use_double_quant: true,
      },
      'bnb-int8': { quant_method: 'bitsandbytes', load_in_8bit: true, load_in_4bit: false },
    };
    for (const [name, values] of Object.entries(expected)) {
      const r = await doctorFolder(join(fixtures, name));
      assert.deepEqual(r.inferred?.values, values, name);
      assert.deepEqual(r.findings, [], name);
      assert.equal(r.inference.modules.length, 14, `${name}: 2 layers × 7 Linears`);
      assert.deepEqual([...r.inference.unquantized].sort(), ['lm_head', 'model.embed_tokens'], name);
      assert.equal(r.targets.find((t) => t.target === 'transformers')?.loads, true);
    }
    const run = quantstudio(['doctor', gptq]);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /^load: GPTQModel 7\.7: yes, MarlinLinear for 14 modules$/m);
    assert.match(run.stdout, /^load: vLLM main@055e47c: yes, gptq_marlin \(MarlinLinearKernel\) for 14 modules$/m);
  });

  it('reads llm-compressor pack-quantized checkpoints: bits and groups from the tensors, which targets load them', async () => {
    const expected = [
      ['llmcompressor-w4a16', 4, false],
      ['llmcompressor-w4a16-asym', 4, true],
      ['llmcompressor-w4a16-channel', 4, false],
      ['llmcompressor-w8a16', 8, false],
    ] as const;
    for (const [name, bits, packedZeros] of expected) {
      const r = await doctorFolder(join(fixtures, name));
      assert.deepEqual(r.findings, [], name);
      assert.equal(r.inference.layout, 'ct-pack-quantized', name);
      assert.deepEqual(
        r.inference.modules.map((m) => [m.bits, m.packedZeros]),
        Array.from({ length: 7 }, () => [bits, packedZeros]),
        name,
      );
      // down_proj (in 256) is the last Linear of the layer; the others take 128 inputs, one g128 group.
      assert.deepEqual(
        [...r.inference.modules].sort((a, b) => a.module.localeCompare(b.module)).map((m) => m.groups),
        [2, 1, 1, 1, 1, 1, 1].map((g) => (name.endsWith('channel') ? 1 : g)),
        name,
      );
      const verdict = (target: string) => r.targets.find((t) => t.target === target)?.loads;
      assert.deepEqual([verdict('transformers'), verdict('quantstudio')], [!packedZeros, true], name);
    }
    const scheme = (await doctorFolder(join(fixtures, 'llmcompressor-w4a16-asym'))).inferred?.values;
    assert.deepEqual(scheme, {
      quant_method: 'compressed-tensors',
      'config_groups.*.weights.num_bits': 4,
      'config_groups.*.weights.strategy': 'group',
      'config_groups.*.weights.group_size': 128,
      'config_groups.*.weights.symmetric': false,
    });
    assert.match(
      quantstudio(['doctor', join(fixtures, 'llmcompressor-w4a16-asym')]).stdout,
      /load: transformers 5\.23: no, fails: model\.layers\.0\.[a-z_.]+\.weight_zero_point is packed \(asymmetric pack-quantized\)/,
    );
  });

  it('a pack-quantized scheme that disagrees with its tensors: num_bits, group_size, symmetric, fixed in config_groups', async () => {
    const folder = copy(join(fixtures, 'llmcompressor-w4a16'));
    editConfigs(folder, (q) => {
      const weights = (q.config_groups as Record<string, { weights: Record<string, unknown> }>).group_0!.weights;
      Object.assign(weights, { num_bits: 8, group_size: 64, symmetric: false });
    });
    const r = await doctorFolder(folder);
    assert.deepEqual(codes(r), [
      'config.json config/config_groups.*.weights.num_bits',
      'config.json config/config_groups.*.weights.group_size',
      'config.json config/config_groups.*.weights.symmetric',
    ]);
    assert.deepEqual(
      r.findings.map((f) => f.fix),
      [
        { key: 'config_groups.group_0.weights.num_bits', value: 4 },
        { key: 'config_groups.group_0.weights.group_size', value: 128 },
        { key: 'config_groups.group_0.weights.symmetric', value: true },
      ],
    );
    assert.match(
      r.findings[0]!.message,
      /^config\.json: config_groups\.group_0\.weights\.num_bits is 8, but the tensors say 4: model\.layers\.0\.mlp\.down_proj\.weight_packed /,
    );
    assert.match(
      r.findings[0]!.message,
      /: model\.layers\.0\.mlp\.down_proj\.weight_packed packs in_features 256 into 32 int32 columns, 4 bits each\./,
    );
    assert.match(r.findings[1]!.message, /weight_scale holds 2 groups over in_features 256/);
    assert.match(r.findings[2]!.message, /symmetric is false, but the tensors say true: no module stores weight_zero_point/);
    await fixAndRecheck(folder);
    const fixed = JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8')).quantization_config.config_groups.group_0.weights;
    assert.deepEqual([fixed.num_bits, fixed.group_size, fixed.symmetric, fixed.strategy], [4, 128, true, 'group']);
  });

  it('usage errors exit 2; a folder that is not a checkpoint is named with exit 1', () => {
    assert.equal(quantstudio(['doctor']).status, 2);
    assert.equal(quantstudio(['doctor', gptq, '--write']).status, 2);
    const missing = quantstudio(['doctor', join(scratch, 'nowhere')]);
    assert.equal(missing.status, 1);
    assert.equal(
      missing.stderr,
      `quantstudio doctor: ${join(scratch, 'nowhere')}: model folder not found (give a folder holding config.json and model.safetensors, or a hub id like org/name)\n`,
    );
  });

  it('bits 4 in the configs over 8-bit tensors: config/bits in both files, fixed to 8', async () => {
    const folder = copy(gptq);
    repackGptq(folder, 8);
    const r = await doctorFolder(folder);
    assert.deepEqual(codes(r), ['config.json config/bits', 'quantize_config.json config/bits']);
    assert.deepEqual(r.findings[0]?.fix, { key: 'bits', value: 8 });
    assert.match(
      r.findings[0]!.message,
      /model\.layers\.0\.self_attn\.q_proj\.qweight packs in_features 256 into 64 int32 rows, 8 bits each/,
    );
    assert.equal(r.targets.find((t) => t.target === 'transformers')?.loads, false);
    assert.equal(quantstudio(['doctor', folder]).status, 1, 'without --fix the folder is only read');
    // The editor's header-only model/checkpoint-mismatch rule agrees on the same copy.
    const validate = quantstudio(['validate', join(folder, 'config.json')], repoRoot, { ...process.env, HF_HUB_OFFLINE: '1' });
    assert.match(
      validate.stdout,
      /error model\/checkpoint-mismatch: bits is 4, but model\.layers\.0\.self_attn\.q_proj\.qweight is \[64, 256\] I32, the packing of 8-bit weights/,
    );
    await fixAndRecheck(folder);
    assert.equal(JSON.parse(readFileSync(join(folder, 'quantize_config.json'), 'utf8')).bits, 8);
  });

  it('desc_act false over a permuted g_idx: config/desc_act', async () => {
    const folder = copy(descAct);
    editConfigs(folder, (q) => {
      q.desc_act = false;
    });
    const r = await doctorFolder(folder);
    assert.deepEqual(codes(r), ['config.json config/desc_act', 'quantize_config.json config/desc_act']);
    assert.match(r.findings[0]!.message, /g_idx is permuted/);
    await fixAndRecheck(folder);
  });

  it('sym true over asymmetric zero points: config/sym (GPTQ v1 stores zero − 1)', async () => {
    const folder = copy(gptq);
    editTensor(folder, 'model.layers.1.mlp.up_proj.qzeros', (d) => d.writeInt32LE(0x77777775, 0)); // first zero 5+1 instead of 7+1
    const r = await doctorFolder(folder);
    assert.deepEqual(codes(r), ['config.json config/sym', 'quantize_config.json config/sym']);
    assert.equal(r.findings[0]?.severity, 'error');
    assert.match(
      r.findings[0]!.message,
      /model\.layers\.1\.mlp\.up_proj\.qzeros holds zero points other than the symmetric 7 \(v1\) or 8 \(v2\)/,
    );
    // The deployment tables read the tensors' settings: asymmetric zero points keep every target off Marlin.
    assert.match(
      quantstudio(['doctor', folder]).stdout,
      /^load: GPTQModel 7\.7: no, not with these configs \(config\/sym\); ExllamaV2Linear for 14 modules \(Marlin takes symmetric GPTQ only \(sym true\)\)$/m,
    );
    await fixAndRecheck(folder);
  });

  it("checkpoint_format gptq_v2 over v1 zero points (7 for 4-bit): config/checkpoint_format, both spellings fixed to 'gptq'", async () => {
    const folder = copy(gptq);
    editConfigs(folder, (q) => {
      q.checkpoint_format = 'gptq_v2';
      q.format = 'gptq_v2';
    });
    const r = await doctorFolder(folder);
    assert.deepEqual(codes(r), ['config.json config/checkpoint_format', 'quantize_config.json config/checkpoint_format']);
    assert.match(r.findings[0]!.message, /every zero point in qzeros is 7, the symmetric midpoint as GPTQ v1 \('gptq'\) stores it/);
    await fixAndRecheck(folder);
    const fixed = JSON.parse(readFileSync(join(folder, 'quantize_config.json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual([fixed.checkpoint_format, fixed.format], ['gptq', 'gptq']);
  });

  it('group_size 64 over 128-wide groups: config/group_size, fixed to 128', async () => {
    const folder = copy(gptq);
    editConfigs(folder, (q) => {
      q.group_size = 64;
    });
    const r = await doctorFolder(folder);
    assert.deepEqual(codes(r), ['config.json config/group_size', 'quantize_config.json config/group_size']);
    assert.deepEqual(r.findings[1]?.fix, { key: 'group_size', value: 128 });
    await fixAndRecheck(folder);
  });

  it('a module listed in modules_to_not_convert but stored quantized: that entry is removed, lm_head kept', async () => {
    const folder = copy(gptq);
    editConfigs(folder, (q) => {
      q.modules_to_not_convert = ['lm_head', 'model.layers.0.mlp.down_proj'];
    });
    const r = await doctorFolder(folder);
    // Only transformers reads the list (config.json); GPTQModel 7.7's quantize_config.json has no such key.
    assert.deepEqual(codes(r), ['config.json config/modules_to_not_convert']);
    await fixAndRecheck(folder);
    assert.deepEqual(JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8')).quantization_config.modules_to_not_convert, ['lm_head']);
  });

  it('a decoder Linear stored in float but not listed as not converted: added to the list', async () => {
    const folder = copy(gptq);
    const file = join(folder, 'model.safetensors');
    const { tensors, metadata } = readSafetensors(file);
    for (const s of ['qweight', 'qzeros', 'scales', 'g_idx']) tensors.delete(`model.layers.1.mlp.down_proj.${s}`);
    tensors.set('model.layers.1.mlp.down_proj.weight', { dtype: 'F16', shape: [256, 768], data: Buffer.alloc(256 * 768 * 2) });
    writeSafetensors(file, tensors, metadata);
    const r = await doctorFolder(folder);
    assert.deepEqual(codes(r), ['config.json config/modules_to_not_convert']);
    assert.deepEqual(r.findings[0]?.fix, { key: 'modules_to_not_convert', add: ['model.layers.1.mlp.down_proj'] });
    assert.deepEqual(r.inference.keptLinears, ['model.layers.1.mlp.down_proj']);
    await fixAndRecheck(folder);
    assert.deepEqual(JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8')).quantization_config.modules_to_not_convert, [
      'model.layers.1.mlp.down_proj',
    ]);
  });

  it('bnb_4bit_quant_type fp4 over nf4 weights', async () => {
    const folder = copy(nf4);
    editConfigs(folder, (q) => {
      q.bnb_4bit_quant_type = 'fp4';
    });
    const r = await doctorFolder(folder);
    assert.deepEqual(codes(r), ['config.json config/bnb_4bit_quant_type']);
    await fixAndRecheck(folder);
  });

  it('a NaN in scales and a bf16 weight beyond fp16 range: counted, named, and not "fixed"', async () => {
    const folder = copy(gptq);
    editTensor(folder, 'model.layers.0.self_attn.k_proj.scales', (d) => {
      d.writeUInt16LE(0x7e00, 6);
      d.writeUInt16LE(0x7c00, 8);
    });
    editTensor(folder, 'model.embed_tokens.weight', (d) => d.writeUInt16LE(0x4780, 2)); // bf16 65536
    const r = await doctorFolder(folder);
    assert.deepEqual(codes(r), ['- data/nan', '- data/inf', '- data/fp16-overflow']);
    assert.deepEqual(r.scan.counts, { nan: 1, inf: 1, overFp16: 1 });
    assert.deepEqual(r.scan.first, {
      nan: ['model.layers.0.self_attn.k_proj.scales'],
      inf: ['model.layers.0.self_attn.k_proj.scales'],
      overFp16: ['model.embed_tokens.weight'],
    });
    assert.equal(
      r.findings[0]?.message,
      '1 NaN values in model.layers.0.self_attn.k_proj.scales: every output that reads them is NaN. Re-quantize or re-download.',
    );
    assert.equal(
      r.scan.tensors,
      21,
      'every F16/BF16/F32 tensor is scanned: 14 scales, 2 norms per layer, the final norm, embeddings, lm_head',
    );
    const run = quantstudio(['doctor', folder, '--fix']);
    assert.equal(run.status, 1);
    assert.doesNotMatch(run.stdout, /wrote corrected/);
  });
});
