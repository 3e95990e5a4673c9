// The deployment-target tables (native/model/deploy*.ts) on the real layer shapes of Llama-3.1-8B, Phi-3-mini and
// Gemma-3-27B (test/fixtures/big-models): the kernel each target picks per layer group, what falls back and what
// is refused, as each table's source release states it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DEPLOYMENT_TARGETS, deploySettingsOf, isQuantizableLinear, kernelsPerGroup, TARGET_TABLES } from '../../../native/model';
import type { DeploymentTarget, DeploySettings, JsonObject } from '../../../native/model';
import { repoRoot } from '../../helpers/cli';
import { bigModelTensors } from '../../helpers/headerOnlyModel';

function linearsOf(model: string): Array<{ module: string; in: number; out: number }> {
  return bigModelTensors(model)
    .filter((t) => isQuantizableLinear({ name: t.name, dtype: 'BF16', shape: t.shape, bytes: t.bytes, file: 'model.safetensors' }))
    .map((t) => ({ module: t.name.slice(0, -'.weight'.length), out: t.shape[0]!, in: t.shape[1]! }));
}

const settings = (quant: JsonObject): DeploySettings => deploySettingsOf(quant)!;

/** "group: kernel [path]" per layer group, as a target picks it. */
function picks(target: DeploymentTarget, s: DeploySettings, model: string): string[] {
  return kernelsPerGroup(target, s, linearsOf(model))!.map((r) => `${r.group}: ${r.choice.kernel} [${r.choice.path}]`);
}

const LLAMA_GROUPS = ['q_proj', 'k_proj', 'v_proj', 'o_proj'].map((p) => `model.layers.*.self_attn.${p}`);
const groupsOf = (names: string[], kernel: string, path: string): string[] => names.map((g) => `${g}: ${kernel} [${path}]`);

describe('deployment-target tables on real shapes', () => {
  const gptq4 = settings({ quant_method: 'gptq', bits: 4, group_size: 128, sym: true, desc_act: false });

  it('Llama-3.1-8B, GPTQ 4-bit g128 sym: every width is on the Marlin tile, so every GPU target takes its fast kernel', () => {
    const groups = [...LLAMA_GROUPS, ...['gate_proj', 'up_proj', 'down_proj'].map((p) => `model.layers.*.mlp.${p}`)];
    assert.deepEqual(picks('vllm', gptq4, 'llama-3.1-8b'), groupsOf(groups, 'gptq_marlin (MarlinLinearKernel)', 'fast'));
    assert.deepEqual(picks('tgi', gptq4, 'llama-3.1-8b'), groupsOf(groups, 'GPTQMarlinLinear', 'fast'));
    assert.deepEqual(picks('gptqmodel', gptq4, 'llama-3.1-8b'), groupsOf(groups, 'MarlinLinear', 'fast'));
    assert.deepEqual(picks('transformers', gptq4, 'llama-3.1-8b'), groupsOf(groups, 'MarlinLinear', 'fast'));
    assert.deepEqual(picks('quantstudio', gptq4, 'llama-3.1-8b'), groupsOf(groups, 'gptq (gptq-v1-bitstream)', 'fast'));
    // llama.cpp converts GPTQ to float on the way to GGUF: it loads, but not these kernels.
    assert.deepEqual(
      picks('llama.cpp', gptq4, 'llama-3.1-8b'),
      groupsOf(groups, 'GGUF (convert_hf_to_gguf.py dequantizes to float)', 'fallback'),
    );
  });

  it('Gemma-3-27B, GPTQ 4-bit group 1024: GPTQModel refuses the 5376-wide inputs and runs the rest on Triton; vLLM leaves Marlin', () => {
    const s = settings({ quant_method: 'gptq', bits: 4, group_size: 1024, sym: true });
    const attn = (p: string) => `model.layers.*.self_attn.${p}`;
    const mlp = (p: string) => `model.layers.*.mlp.${p}`;
    // 5376 % 1024 = 256: q/k/v (in 5376) and gate/up (in 5376) break the group; o_proj (in 4096) and down_proj (in 21504) do not.
    assert.deepEqual(picks('gptqmodel', s, 'gemma-3-27b-text'), [
      `${attn('q_proj')}: none [refused]`,
      `${attn('k_proj')}: none [refused]`,
      `${attn('v_proj')}: none [refused]`,
      `${attn('o_proj')}: TritonV2Linear [fallback]`,
      `${mlp('gate_proj')}: none [refused]`,
      `${mlp('up_proj')}: none [refused]`,
      `${mlp('down_proj')}: TritonV2Linear [fallback]`,
    ]);
    const vllm = TARGET_TABLES.vllm.choose(s)!;
    assert.deepEqual([vllm.kernel, vllm.path, vllm.cause], ['gptq (gptq_gemm, float16 only)', 'fallback', 'group_size']);
    assert.equal(
      vllm.why,
      'Marlin takes group_size -1, 32, 64 or 128, not 1024: not gptq_marlin-compatible, served by the plain gptq method',
    );
  });

  it('Phi-3-mini, GPTQ 8-bit act-order: the fused qkv (out 9216) and gate_up (out 16384) stay on Marlin in vLLM and TGI', () => {
    const s = settings({ quant_method: 'gptq', bits: 8, group_size: 128, sym: true, desc_act: true });
    const groups = [
      'model.layers.*.self_attn.qkv_proj',
      'model.layers.*.self_attn.o_proj',
      'model.layers.*.mlp.gate_up_proj',
      'model.layers.*.mlp.down_proj',
    ];
    assert.deepEqual(picks('vllm', s, 'phi-3-mini-4k'), groupsOf(groups, 'gptq_marlin (MarlinLinearKernel)', 'fast'));
    assert.deepEqual(picks('tgi', s, 'phi-3-mini-4k'), groupsOf(groups, 'GPTQMarlinLinear', 'fast'));
    // ExLlama v2 takes 4 bits only: an 8-bit layer off Marlin would go to Triton, but none is off it.
    assert.deepEqual(picks('gptqmodel', s, 'phi-3-mini-4k'), groupsOf(groups, 'MarlinLinear', 'fast'));
  });

  it('Phi-3-mini, GPTQ 3-bit and asymmetric 4-bit: the slower paths, and llama.cpp refuses 3 bits', () => {
    const three = settings({ quant_method: 'gptq', bits: 3, group_size: 128, sym: true });
    const groups = [
      'model.layers.*.self_attn.qkv_proj',
      'model.layers.*.self_attn.o_proj',
      'model.layers.*.mlp.gate_up_proj',
      'model.layers.*.mlp.down_proj',
    ];
    assert.deepEqual(picks('gptqmodel', three, 'phi-3-mini-4k'), groupsOf(groups, 'TorchLinear', 'fallback'));
    assert.deepEqual(picks('llama.cpp', three, 'phi-3-mini-4k'), groupsOf(groups, 'none', 'refused'));
    assert.equal(TARGET_TABLES.vllm.choose(three)?.cause, 'bits');
    const asym = settings({ quant_method: 'gptq', bits: 4, group_size: 128, sym: false });
    assert.deepEqual(picks('gptqmodel', asym, 'phi-3-mini-4k'), groupsOf(groups, 'ExllamaV2Linear', 'fallback'));
    assert.deepEqual(picks('tgi', asym, 'phi-3-mini-4k'), groupsOf(groups, 'GPTQ loader (layers/gptq)', 'fallback'));
    assert.equal(TARGET_TABLES.tgi.choose(asym)?.cause, 'sym');
  });

  it('off the Marlin tile (the fp16-odd-widths fixture: in 80, out 160): vLLM pads or hands act-order to ExLlama, TGI refuses', () => {
    const config = JSON.parse(readFileSync(join(repoRoot, 'test/fixtures/model-aware/fp16-odd-widths/config.json'), 'utf8'));
    const dims = { in: config.hidden_size as number, out: config.intermediate_size as number };
    assert.deepEqual(dims, { in: 80, out: 160 });
    const plain = settings({ quant_method: 'gptq', bits: 4, group_size: 16, sym: true, desc_act: false });
    assert.equal(TARGET_TABLES.vllm.choose(plain, dims)?.kernel, 'gptq (gptq_gemm, float16 only)', 'group 16 is no Marlin group size');
    const perChannel = { ...plain, groupSize: -1 };
    assert.deepEqual(TARGET_TABLES.vllm.choose(perChannel, dims), {
      kernel: 'gptq_marlin (MarlinLinearKernel, tile-padded)',
      path: 'fallback',
      why: 'zero-padded to a Marlin thread tile: activations and outputs are padded and sliced on every forward',
      cause: 'shape',
    });
    const actOrder = settings({ quant_method: 'gptq', bits: 4, group_size: 32, sym: true, desc_act: true });
    assert.equal(
      TARGET_TABLES.vllm.choose(actOrder, { in: 160, out: 80 })?.kernel,
      'gptq_marlin (ExllamaLinearKernel, float16 activations only)',
    );
    assert.equal(TARGET_TABLES.tgi.choose(perChannel, dims)?.path, 'refused');
    // in 80 is no multiple of 32: off Marlin's tile, and neither ExLlama v2 nor Triton takes it.
    assert.equal(TARGET_TABLES.gptqmodel.choose(perChannel, dims)?.kernel, 'TorchLinear');
  });

  it('AWQ and bitsandbytes: llama.cpp refuses both, TGI serves AWQ on Marlin, the tables without a rule say so', () => {
    const awq = settings({ quant_method: 'awq', bits: 4, group_size: 128, zero_point: true, version: 'gemm' });
    const nf4 = settings({ quant_method: 'bitsandbytes', load_in_4bit: true, bnb_4bit_quant_type: 'nf4' });
    assert.equal(TARGET_TABLES['llama.cpp'].choose(awq)?.path, 'refused');
    assert.equal(TARGET_TABLES['llama.cpp'].choose(nf4)?.path, 'refused');
    assert.equal(TARGET_TABLES.tgi.choose(awq)?.kernel, 'GPTQMarlinLinear');
    assert.equal(TARGET_TABLES.quantstudio.choose(nf4)?.kernel, 'bnb4 (bnb4-nibbles)');
    assert.equal(TARGET_TABLES.vllm.choose({ ...awq, format: 'gemv' }), undefined);
    assert.equal(TARGET_TABLES.vllm.choose(nf4), undefined);
    assert.equal(TARGET_TABLES.gptqmodel.choose(nf4), undefined);
  });

  it('vLLM AWQ on Llama-3.1-8B: awq_marlin with zero points; without them, or at group 256, the plain awq method', () => {
    const awq = settings({ quant_method: 'awq', bits: 4, group_size: 128, zero_point: true, version: 'gemm' });
    const groups = [...LLAMA_GROUPS, ...['gate_proj', 'up_proj', 'down_proj'].map((p) => `model.layers.*.mlp.${p}`)];
    assert.deepEqual(picks('vllm', awq, 'llama-3.1-8b'), groupsOf(groups, 'awq_marlin (MarlinLinearKernel)', 'fast'));
    const noZeros = TARGET_TABLES.vllm.choose({ ...awq, sym: true })!;
    assert.deepEqual([noZeros.kernel, noZeros.path, noZeros.cause], ['awq (unoptimized AWQ kernels)', 'fallback', 'zero_point']);
    const g256 = settings({ quant_method: 'awq', bits: 4, group_size: 256, zero_point: true, version: 'gemm' });
    assert.deepEqual(picks('vllm', g256, 'llama-3.1-8b'), groupsOf(groups, 'awq (unoptimized AWQ kernels)', 'fallback'));
    // A layer whose in_features the group does not divide falls back alone (the fp16-odd-widths down_proj: in 160).
    assert.equal(TARGET_TABLES.vllm.choose(awq, { in: 160, out: 80 })?.kernel, 'awq (unoptimized AWQ kernels)');
    assert.equal(
      TARGET_TABLES.vllm.choose({ ...awq, groupSize: 32 }, { in: 160, out: 80 })?.kernel,
      'awq_marlin (MarlinLinearKernel, tile-padded)',
    );
  });

  it('the targets are named once: the setting in package.json and the job schema list the same values', () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
    const job = JSON.parse(readFileSync(join(repoRoot, 'schemas/job.schema.json'), 'utf8'));
    const setting = pkg.contributes.configuration.properties['quantstudio.deploymentTargets'];
    assert.deepEqual(setting.items.enum, [...DEPLOYMENT_TARGETS]);
    assert.deepEqual(job.properties.deploymentTargets.items.enum, [...DEPLOYMENT_TARGETS]);
    assert.deepEqual(job.properties.deploymentTargets.default, setting.default);
  });
});
