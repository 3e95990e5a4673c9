// Model-aware diagnostics through createLanguageService: each rule failing and passing, with exact codes,
// ranges, messages and fixes, against real model folders (examples/tiny-llama and the checkpoint folders
// of test/fixtures/model-aware). Resolution is asynchronous: the first diagnose has no model findings.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, it } from 'node:test';
import { createLanguageService } from '../../../server/src/service';
import type { LanguageService, ServiceDiagnostic } from '../../../server/src/service';
import type { Range } from 'vscode-languageserver-types';
import { rangeOf } from '../../lsp/textRanges';

const repo = join(__dirname, '..', '..', '..', '..');
const fixtures = join(repo, 'test', 'fixtures', 'model-aware');
const configs = join(repo, 'examples', 'configs');
const temp = mkdtempSync(join(tmpdir(), 'qs-model-aware-'));
after(() => rmSync(temp, { recursive: true, force: true }));

function newService(): LanguageService {
  // No ambient HF_* variables and an empty HF cache: only what the test sets counts.
  return createLanguageService({ models: { hub: { env: {}, hubCacheDir: join(temp, 'hf-cache') } } });
}

const service = newService();

async function modelDiagnostics(path: string, text: string, svc = service): Promise<ServiceDiagnostic[]> {
  const doc = { uri: pathToFileURL(path).href, text };
  await svc.resolveModel(doc);
  return (await svc.diagnose(doc)).filter((d) => d.code.startsWith('model/'));
}

const job = (quantizationConfig: object, model = '../tiny-llama'): string =>
  `${JSON.stringify({ model, quantization_config: quantizationConfig }, null, 2)}\n`;
const jobPath = join(configs, 'model-aware-test.quant.json');
const fixtureConfig = (folder: string, from: string, to: string): string =>
  readFileSync(join(fixtures, folder, 'config.json'), 'utf8').replace(from, to);

interface Case {
  name: string;
  path: string;
  text: string;
  /** quantstudio.model, for files that name no model. */
  setting?: string;
  /** The diagnostic covers `part` (default: all) of the first occurrence of `at`, its message, its fixes' values. */
  expected: Array<{ code: string; severity: number; at: string; part?: string; message: string; fixes?: unknown[] }>;
}

const SIX_LINEARS =
  'model.layers.*.mlp.gate_proj (in 256), model.layers.*.mlp.up_proj (in 256), model.layers.*.self_attn.k_proj (in 256), model.layers.*.self_attn.o_proj (in 256), model.layers.*.self_attn.q_proj (in 256), model.layers.*.self_attn.v_proj (in 256)';

const CASES: Case[] = [
  {
    name: 'GPTQ group_size 96 breaks every Linear with in_features 256 (down_proj, in 768, is fine)',
    path: jobPath,
    text: job({ quant_method: 'gptq', bits: 4, group_size: 96 }),
    expected: [
      {
        code: 'model/group-size-divides',
        severity: 1,
        at: '96',
        message: `group_size 96 does not divide the in_features of ${SIX_LINEARS} in ../tiny-llama: GPTQModel 7.7 kernels (loaded through transformers 5.23) require in_features % group_size == 0 and refuse these layers. Use a group size that divides every in_features (128, 64, 32 do).`,
        fixes: [128, 64, 32],
      },
    ],
  },
  {
    name: 'AWQ quant_config.json (no model of its own: the setting) with q_group_size 96',
    path: join(temp, 'awq', 'quant_config.json'),
    setting: join(repo, 'examples', 'tiny-llama'),
    text: '{ "w_bit": 4, "q_group_size": 96, "zero_point": true, "version": "GEMM" }',
    expected: [],
  },
  {
    name: 'group_size 128 divides every in_features',
    path: jobPath,
    text: job({ quant_method: 'gptq', bits: 4, group_size: 128 }),
    expected: [],
  },
  {
    name: 'AWQ group_size 64 divides every in_features',
    path: jobPath,
    text: job({ quant_method: 'awq', bits: 4, group_size: 64 }),
    expected: [],
  },
  {
    name: 'AWQ group_size 96 in a job file',
    path: jobPath,
    text: job({ quant_method: 'awq', bits: 4, group_size: 96 }),
    expected: [
      {
        code: 'model/group-size-divides',
        severity: 1,
        at: '96',
        message: `group_size 96 does not divide the in_features of ${SIX_LINEARS} in ../tiny-llama: AutoAWQ 0.2 WQLinear asserts in_features % group_size == 0, so quantizing or loading fails on these layers. Use a group size that divides every in_features (128, 64, 32 do).`,
        fixes: [128, 64, 32],
      },
    ],
  },
  {
    name: 'module lists name modules that do not exist, with did-you-mean fixes',
    path: jobPath,
    text: job({
      quant_method: 'gptq',
      bits: 4,
      group_size: 128,
      modules_to_not_convert: ['lm_haed'],
      block_name_to_quantize: 'model.layer',
      modules_in_block_to_quantize: [['self_attn.q_proj', 'self_attn.k_prj']],
    }),
    expected: [
      {
        code: 'model/unknown-module',
        severity: 2,
        at: '"lm_haed"',
        message:
          '"lm_haed" in modules_to_not_convert names no module of ../tiny-llama: transformers 5.23 matches nothing and quantizes the module after all. Did you mean "lm_head"?',
        fixes: [['lm_head']],
      },
      {
        code: 'model/unknown-module',
        severity: 2,
        at: '"model.layer"',
        message:
          '"model.layer" in block_name_to_quantize names no module of ../tiny-llama: GPTQModel 7.7 finds no such block and fails to quantize. Did you mean "model.layers"?',
        fixes: ['model.layers'],
      },
      {
        code: 'model/unknown-module',
        severity: 2,
        at: '"self_attn.k_prj"',
        message:
          '"self_attn.k_prj" in modules_in_block_to_quantize names no module of ../tiny-llama: GPTQModel 7.7 finds no such module in the blocks and fails to quantize. Did you mean "self_attn.k_proj"?',
        fixes: [[['self_attn.q_proj', 'self_attn.k_proj']]],
      },
    ],
  },
  {
    name: 'module names that exist (whole, suffix and block prefix) pass',
    path: jobPath,
    text: job({
      quant_method: 'gptq',
      bits: 4,
      group_size: 128,
      modules_to_not_convert: ['lm_head', 'mlp.down_proj', 'model.layers.3'],
      block_name_to_quantize: 'model.layers',
      modules_in_block_to_quantize: [['self_attn.q_proj', 'self_attn.k_proj']],
    }),
    expected: [],
  },
  {
    name: 'bitsandbytes llm_int8_skip_modules without a close name gets no fix',
    path: jobPath,
    text: job({ quant_method: 'bitsandbytes', load_in_8bit: true, llm_int8_skip_modules: ['vision_tower'] }),
    expected: [
      {
        code: 'model/unknown-module',
        severity: 2,
        at: '"vision_tower"',
        message:
          '"vision_tower" in llm_int8_skip_modules names no module of ../tiny-llama: transformers 5.23 (bitsandbytes 0.50) matches nothing and converts the module after all. Use a module name from the model (e.g. lm_head, q_proj, mlp.down_proj).',
      },
    ],
  },
  {
    name: 'a projection Phi-3 fuses: the fused module is the suggestion, not the nearest spelling',
    path: jobPath,
    text: job(
      { quant_method: 'gptq', bits: 4, group_size: 32, modules_to_not_convert: ['lm_head', 'mlp.up_proj'] },
      '../../test/fixtures/phi3-random',
    ),
    expected: [
      {
        code: 'model/unknown-module',
        severity: 2,
        at: '"mlp.up_proj"',
        message:
          '"mlp.up_proj" in modules_to_not_convert names no module of ../../test/fixtures/phi3-random: transformers 5.23 matches nothing and quantizes the module after all. ' +
          '../../test/fixtures/phi3-random fuses up_proj into gate_up_proj. Did you mean "mlp.gate_up_proj"?',
        fixes: [['lm_head', 'mlp.gate_up_proj']],
      },
    ],
  },
  {
    name: 'backend marlin on widths off its thread tile passes: GPTQModel 7.7 pads them (80 and 160, whole packed words)',
    path: jobPath,
    text: job({ quant_method: 'gptq', bits: 4, group_size: 16, backend: 'marlin' }, '../../test/fixtures/model-aware/fp16-odd-widths'),
    expected: [],
  },
  {
    name: 'backend marlin with act-order on widths off its thread tile',
    path: jobPath,
    text: job(
      { quant_method: 'gptq', bits: 4, group_size: 16, desc_act: true, backend: 'marlin' },
      '../../test/fixtures/model-aware/fp16-odd-widths',
    ), // 160 and 80: no whole tile
    expected: [
      {
        code: 'model/kernel-shape',
        severity: 1,
        at: '"marlin"',
        message:
          'backend "marlin" (GPTQModel 7.7 MarlinLinear) needs in_features and out_features divisible by 8 (whole packed words; it pads the rest of its tile at load) and, with act-order, a whole thread tile (out % 64 and in % 128, or out % 128 and in % 64), which model.layers.*.mlp.down_proj (in 160, out 80), model.layers.*.mlp.gate_proj (in 80, out 160), model.layers.*.mlp.up_proj (in 80, out 160), model.layers.*.self_attn.k_proj (in 80, out 80), model.layers.*.self_attn.o_proj (in 80, out 80), model.layers.*.self_attn.q_proj (in 80, out 80), and 1 more in ../../test/fixtures/model-aware/fp16-odd-widths do not have: GPTQModel refuses the kernel for this model. Use "backend": "auto" to let it pick one that fits.',
        fixes: ['auto'],
      },
    ],
  },
  {
    name: 'backend exllama_v2 on widths not divisible by 32',
    path: jobPath,
    text: job({ quant_method: 'gptq', bits: 4, group_size: 16, backend: 'exllama_v2' }, '../../test/fixtures/model-aware/fp16-odd-widths'),
    expected: [
      {
        code: 'model/kernel-shape',
        severity: 1,
        at: '"exllama_v2"',
        message:
          'backend "exllama_v2" (GPTQModel 7.7 ExllamaV2Linear) needs in_features and out_features divisible by 32, which model.layers.*.mlp.down_proj (in 160, out 80), model.layers.*.mlp.gate_proj (in 80, out 160), model.layers.*.mlp.up_proj (in 80, out 160), model.layers.*.self_attn.k_proj (in 80, out 80), model.layers.*.self_attn.o_proj (in 80, out 80), model.layers.*.self_attn.q_proj (in 80, out 80), and 1 more in ../../test/fixtures/model-aware/fp16-odd-widths do not have: GPTQModel refuses the kernel for this model. Use "backend": "auto" to let it pick one that fits.',
        fixes: ['auto'],
      },
    ],
  },
  {
    name: 'backend marlin on tiny-llama (every width a multiple of 64) passes',
    path: jobPath,
    text: job({ quant_method: 'gptq', bits: 4, group_size: 128, backend: 'marlin' }),
    expected: [],
  },
  {
    name: 'backend exllama_v2 on tiny-llama passes',
    path: jobPath,
    text: job({ quant_method: 'gptq', bits: 4, group_size: 128, backend: 'exllama_v2' }),
    expected: [],
  },
  {
    name: 'bitsandbytes 4-bit on widths its fused CPU kernel cannot repack (out 80 not a multiple of 32, in 80 and 160 not of 64)',
    path: jobPath,
    text: job({ quant_method: 'bitsandbytes', load_in_4bit: true }, '../../test/fixtures/model-aware/fp16-odd-widths'),
    expected: [
      {
        code: 'model/bnb-cpu-4bit-shape',
        severity: 2,
        at: 'true',
        message:
          'On a CPU with AVX512-BF16, bitsandbytes 0.50 repacks every 4-bit Linear for its fused kernel (functional.py _convert_weight_packed_for_cpu), which needs out_features % 32 == 0 and ' +
          'in_features % 64 == 0: model.layers.*.mlp.down_proj (in 160, out 80), model.layers.*.mlp.gate_proj (in 80, out 160), model.layers.*.mlp.up_proj (in 80, out 160), ' +
          'model.layers.*.self_attn.k_proj (in 80, out 80), model.layers.*.self_attn.o_proj (in 80, out 80), model.layers.*.self_attn.q_proj (in 80, out 80), and 1 more in ' +
          '../../test/fixtures/model-aware/fp16-odd-widths fail there (GPU inference is not affected). Keep these layers unquantized with llm_int8_skip_modules to run the model on such a CPU.',
        fixes: [['lm_head', 'down_proj', 'gate_proj', 'up_proj', 'k_proj', 'o_proj', 'q_proj', 'v_proj']],
      },
    ],
  },
  {
    name: 'bitsandbytes 4-bit with the offending layers in llm_int8_skip_modules, or in 8-bit, passes',
    path: jobPath,
    text: job(
      { quant_method: 'bitsandbytes', load_in_4bit: true, llm_int8_skip_modules: ['lm_head', 'mlp', 'self_attn'] },
      '../../test/fixtures/model-aware/fp16-odd-widths',
    ),
    expected: [],
  },
  {
    name: 'bitsandbytes 8-bit on the odd widths passes',
    path: jobPath,
    text: job({ quant_method: 'bitsandbytes', load_in_8bit: true }, '../../test/fixtures/model-aware/fp16-odd-widths'),
    expected: [],
  },
  {
    name: 'bitsandbytes 4-bit on tiny-llama (out multiples of 32, in of 64) passes',
    path: jobPath,
    text: job({ quant_method: 'bitsandbytes', load_in_4bit: true }),
    expected: [],
  },
  {
    name: 'config.json says bits 4 beside 8-bit GPTQ tensors',
    path: join(fixtures, 'gptq-8bit-g32', 'config.json'),
    text: fixtureConfig('gptq-8bit-g32', '"bits": 8', '"bits": 4'),
    expected: [
      {
        code: 'model/checkpoint-mismatch',
        severity: 1,
        at: '"bits": 4',
        part: '4',
        message:
          'bits is 4, but model.layers.0.mlp.down_proj.qweight is [32, 64] I32, the packing of 8-bit weights (4-bit would take 4096 bytes, it holds 8192): transformers 5.23 fails to load it with a shape mismatch. Set bits to 8.',
        fixes: [8],
      },
    ],
  },
  {
    name: 'config.json says group_size 64 beside GPTQ tensors in groups of 32',
    path: join(fixtures, 'gptq-8bit-g32', 'config.json'),
    text: fixtureConfig('gptq-8bit-g32', '"group_size": 32', '"group_size": 64'),
    expected: [
      {
        code: 'model/checkpoint-mismatch',
        severity: 1,
        at: '"group_size": 64',
        part: '64',
        message:
          'group_size is 64, but model.layers.0.mlp.down_proj.scales is [4, 64] F16: 4 groups over in_features 128, i.e. group_size 32. transformers 5.23 fails to load it with a shape mismatch. Set group_size to 32.',
        fixes: [32],
      },
    ],
  },
  {
    name: 'the GPTQ checkpoint with its own config passes',
    path: join(fixtures, 'gptq-8bit-g32', 'config.json'),
    text: fixtureConfig('gptq-8bit-g32', '', ''),
    expected: [],
  },
  {
    name: 'AWQ config.json with the wrong group size',
    path: join(fixtures, 'awq-g32', 'config.json'),
    text: fixtureConfig('awq-g32', '"group_size": 32', '"group_size": 64'),
    expected: [
      {
        code: 'model/checkpoint-mismatch',
        severity: 1,
        at: '"group_size": 64',
        part: '64',
        message:
          'group_size is 64, but model.layers.0.mlp.down_proj.scales is [4, 64] F16: 4 groups over in_features 128, i.e. group size 32. AutoAWQ 0.2 / transformers 5.23 fail to load it with a shape mismatch.',
        fixes: [32],
      },
    ],
  },
  {
    name: 'the AWQ checkpoint with its own config passes',
    path: join(fixtures, 'awq-g32', 'config.json'),
    text: fixtureConfig('awq-g32', '', ''),
    expected: [],
  },
  {
    name: 'bnb 4-bit config beside int8 weights',
    path: join(fixtures, 'bnb-int8', 'config.json'),
    text: fixtureConfig('bnb-int8', 'load_in_8bit', 'load_in_4bit'),
    expected: [
      {
        code: 'model/checkpoint-mismatch',
        severity: 1,
        at: 'true',
        message:
          'load_in_4bit is true, but this folder holds LLM.int8 weights (model.layers.0.mlp.down_proj.SCB): bitsandbytes 0.50 cannot read 8-bit tensors as 4-bit ones. Set load_in_8bit to true and load_in_4bit to false.',
      },
    ],
  },
  {
    name: 'bnb fp4 config beside nf4 weights',
    path: join(fixtures, 'bnb-nf4', 'config.json'),
    text: fixtureConfig('bnb-nf4', '"nf4"', '"fp4"'),
    expected: [
      {
        code: 'model/checkpoint-mismatch',
        severity: 1,
        at: '"fp4"',
        message:
          'bnb_4bit_quant_type is "fp4", but the weights were stored as nf4 (model.layers.0.mlp.down_proj.weight.quant_state.bitsandbytes__nf4): bitsandbytes 0.50 would dequantize them with the wrong code book. Set bnb_4bit_quant_type to "nf4".',
        fixes: ['nf4'],
      },
    ],
  },
  {
    name: 'bnb 8-bit config beside nf4 weights',
    path: join(fixtures, 'bnb-nf4', 'config.json'),
    text: fixtureConfig('bnb-nf4', '"load_in_4bit": true', '"load_in_8bit": true'),
    expected: [
      {
        code: 'model/checkpoint-mismatch',
        severity: 1,
        at: 'true',
        message:
          'load_in_8bit is true, but this folder holds 4-bit weights (model.layers.0.mlp.down_proj.weight.quant_state.bitsandbytes__nf4): bitsandbytes 0.50 cannot read 4-bit tensors as 8-bit ones. Set load_in_4bit to true and load_in_8bit to false.',
      },
    ],
  },
  {
    name: 'the nf4 and int8 checkpoints with their own configs pass',
    path: join(fixtures, 'bnb-nf4', 'config.json'),
    text: fixtureConfig('bnb-nf4', '', ''),
    expected: [],
  },
  {
    name: 'the int8 checkpoint with its own config passes',
    path: join(fixtures, 'bnb-int8', 'config.json'),
    text: fixtureConfig('bnb-int8', '', ''),
    expected: [],
  },
  {
    name: 'quant_method gptq in the config.json of an unquantized model',
    path: join(repo, 'examples', 'tiny-llama', 'config.json'),
    text: readFileSync(join(repo, 'examples', 'tiny-llama', 'config.json'), 'utf8').replace(
      '"vocab_size": 4096',
      '"vocab_size": 4096,\n  "quantization_config": { "quant_method": "gptq", "bits": 4, "group_size": 128 }',
    ),
    expected: [
      {
        code: 'model/checkpoint-mismatch',
        severity: 1,
        at: '"gptq"',
        message:
          'quant_method is gptq, but the safetensors in this folder hold no *.qweight tensors (they hold unquantized weights such as model.layers.0.mlp.down_proj.weight): transformers 5.23 cannot load them as a gptq checkpoint. Quantize the model first, or remove quantization_config to load it unquantized.',
      },
    ],
  },
  {
    name: 'a model folder that does not exist is one information note on the reference',
    path: jobPath,
    text: job({ quant_method: 'gptq', bits: 4 }, '../nowhere'),
    expected: [
      {
        code: 'model/unresolved',
        severity: 3,
        at: '"../nowhere"',
        message: `Model "../nowhere" could not be resolved: ${join(repo, 'examples', 'nowhere')}: model folder not found (give an existing folder with config.json and safetensors weights, or a hub id like org/name). Model-aware checks and the memory estimate are off for this file.`,
      },
    ],
  },
  {
    name: 'a config.json whose folder holds no weights is checked against nothing (no note)',
    path: join(configs, 'gptq-checkpoint', 'config.json'),
    text: readFileSync(join(configs, 'gptq-checkpoint', 'config.json'), 'utf8'),
    expected: [],
  },
];

// The AWQ quant_config.json case above names AutoAWQ's key; its expectation depends on the text, so fill it in here.
{
  const awq = CASES[1];
  awq.expected = [
    {
      code: 'model/group-size-divides',
      severity: 1,
      at: '96',
      message: `q_group_size 96 does not divide the in_features of ${SIX_LINEARS} in ${join(repo, 'examples', 'tiny-llama')}: AutoAWQ 0.2 WQLinear asserts in_features % group_size == 0, so quantizing or loading fails on these layers. Use a group size that divides every in_features (128, 64, 32 do).`,
      fixes: [128, 64, 32],
    },
  ];
}

describe('model-aware diagnostics', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const svc = c.setting ? newService() : service;
      if (c.setting) svc.configureModels({ model: c.setting });
      const diagnostics = await modelDiagnostics(c.path, c.text, svc);
      assert.deepEqual(
        diagnostics.map((d) => ({
          code: d.code,
          severity: d.severity,
          range: d.range,
          message: d.message,
          fixes: d.data?.fixes.map((f) => ('value' in f ? f.value : undefined)),
        })),
        c.expected.map((e) => ({
          code: e.code,
          severity: e.severity,
          range: partOf(c.text, e.at, e.part),
          message: e.message,
          fixes: e.fixes,
        })),
      );
    });
  }

  it('a model the engine cannot run is named: a warning in a job file, information in its config.json', async () => {
    const folder = join(temp, 'mixtral-model');
    mkdirSync(folder, { recursive: true });
    copyFileSync(join(repo, 'examples', 'tiny-llama', 'model.safetensors'), join(folder, 'model.safetensors'));
    const config = JSON.parse(readFileSync(join(repo, 'examples', 'tiny-llama', 'config.json'), 'utf8'));
    writeFileSync(join(folder, 'config.json'), JSON.stringify({ ...config, architectures: ['DbrxForCausalLM'] }));
    const supported =
      'LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM, Phi3ForCausalLM, MixtralForCausalLM, ' +
      'Qwen2MoeForCausalLM, Qwen3MoeForCausalLM, Gemma2ForCausalLM, Gemma3ForCausalLM, OPTForCausalLM';
    const reason = `config.json: \`architectures\` names "DbrxForCausalLM"; the runtime supports ${supported}`;
    const inJob = (await modelDiagnostics(jobPath, job({ quant_method: 'gptq', bits: 4 }, folder))).filter(
      (d) => d.code === 'model/engine-support',
    );
    const refusal = 'Quantize, Benchmark and Generate refuse this job before they start; validation and the memory estimate still work.';
    assert.deepEqual(
      inJob.map((d) => [d.severity, d.message]),
      [[2, `QuantStudio's engine cannot run ${folder}: ${reason}. ${refusal}`]],
    );
    const ownConfig = JSON.stringify(
      { ...config, architectures: ['DbrxForCausalLM'], quantization_config: { quant_method: 'bitsandbytes', load_in_4bit: true } },
      null,
      2,
    );
    const inConfig = (await modelDiagnostics(join(folder, 'config.json'), ownConfig)).filter((d) => d.code === 'model/engine-support');
    assert.deepEqual(
      inConfig.map((d) => d.severity),
      [3],
    );
    // A model the engine runs gets no such finding.
    assert.deepEqual(
      (await modelDiagnostics(jobPath, job({ quant_method: 'gptq', bits: 4 }))).filter((d) => d.code === 'model/engine-support'),
      [],
    );
  });

  it("a job's mixedPrecision budget outside what the model stores at the two widths is flagged where it is written", async () => {
    const withBudget = (mixedPrecision: object, config: object = { quant_method: 'gptq', bits: 3, group_size: 128, sym: false }): string =>
      `${JSON.stringify({ model: '../tiny-llama', quantization_config: config, mixedPrecision }, null, 2)}\n`;
    const budget = async (text: string): Promise<Array<[number | undefined, string, string]>> =>
      (await modelDiagnostics(jobPath, text))
        .filter((d) => d.code === 'model/mixed-precision-budget')
        .map((d) => [d.severity, d.message, text.split('\n')[d.range.start.line]!.trim()]);
    const tiny = '../tiny-llama';
    assert.deepEqual(await budget(withBudget({ bitsPerWeight: 3.5 })), []);
    assert.deepEqual(await budget(withBudget({ bitsPerWeight: 4.3 })), [
      [
        1,
        `${tiny}: mixedPrecision.bitsPerWeight 4.3: this model stores 3.24 bits per weight at bits 3 and 4.25 at 4; give a budget ` +
          "from 3.24 to below 4.25 (QuantStudio's engine refuses the job before any work).",
        '"bitsPerWeight": 4.3',
      ],
    ]);
    assert.deepEqual(await budget(withBudget({ bitsPerWeight: 4.3, bits: 8 })), []);
    assert.deepEqual(
      (await budget(withBudget({ bitsPerWeight: 4.5, bits: 3 }))).map(([, m, line]) => [m.split(' (')[0], line]),
      [[`${tiny}: mixedPrecision.bits: give a width GPTQ stores above the config's bits 3`, '"bits": 3']],
    );
    const awq = await budget(withBudget({ bitsPerWeight: 4.5 }, { quant_method: 'awq', bits: 4, group_size: 128 }));
    assert.deepEqual(
      awq.map(([, , line]) => line),
      ['"mixedPrecision": {'],
    );
  });

  it("a job's signRound on a model whose layer the engine cannot differentiate is flagged at signRound, naming why", async () => {
    const withSignRound = (model: string): string =>
      `${JSON.stringify({ model, quantization_config: { quant_method: 'gptq', bits: 3, group_size: 32 }, signRound: { iters: 50 } }, null, 2)}\n`;
    const findings = async (model: string): Promise<Array<[number | undefined, string, string]>> => {
      const text = withSignRound(model);
      return (await modelDiagnostics(jobPath, text))
        .filter((d) => d.code === 'model/sign-round-model')
        .map((d) => [d.severity, d.message, text.split('\n')[d.range.start.line]!.trim()]);
    };
    assert.deepEqual(await findings('../tiny-llama'), []);
    assert.deepEqual(await findings(join(repo, 'test', 'fixtures', 'qwen3-random')), []);
    for (const [fixture, why] of [
      ['mixtral-random', 'MixtralForCausalLM is a Mixture-of-Experts model'],
      ['phi3-random', 'Phi3ForCausalLM fuses its projections (qkv_proj, gate_up_proj)'],
      ['gemma2-random', 'Gemma2ForCausalLM norms its attention and MLP outputs (sandwich norms)'],
      ['opt-random', 'OPTForCausalLM is not a Llama-family model'],
    ]) {
      const folder = join(repo, 'test', 'fixtures', fixture!);
      assert.deepEqual(await findings(folder), [
        [
          1,
          `${folder}: ${why}; learned rounding (signRound) runs on dense Llama-family layers (Llama, Mistral, Qwen2/3), ` +
            "so QuantStudio's engine refuses the job before any work. Remove signRound.",
          '"signRound": {',
        ],
      ]);
    }
  });

  it('MoE models: AWQ and GPTQ on one are not refused, an unsupported MoE field is named, expert and router names are modules', async () => {
    const mixtral = join(repo, 'test', 'fixtures', 'mixtral-random');
    const text = job(
      {
        quant_method: 'awq',
        bits: 4,
        group_size: 32,
        modules_to_not_convert: ['block_sparse_moe.gate', 'experts', 'block_sparse_moe.experts', 'experts.w1'],
      },
      mixtral,
    );
    const found = (await modelDiagnostics(jobPath, text)).map((d) => [d.code, d.severity, d.message]);
    assert.deepEqual(
      found.filter(([code]) => code === 'model/engine-support'),
      [],
    );
    const gptqJob = job({ quant_method: 'gptq', bits: 4, group_size: 32 }, mixtral);
    assert.deepEqual(
      (await modelDiagnostics(jobPath, gptqJob)).filter((d) => d.code === 'model/engine-support'),
      [],
    );
    // GPTAQ is refused by the engine on MoE models: flagged where gptaq is set, not without it or on a dense model.
    const gptaqJob = job({ quant_method: 'gptq', bits: 4, group_size: 32, gptaq: { alpha: 0.25 } }, mixtral);
    assert.deepEqual(
      (await modelDiagnostics(jobPath, gptaqJob)).filter((d) => d.code === 'model/gptaq-moe').map((d) => [d.severity, d.message]),
      [
        [
          1,
          `${mixtral} is a Mixture-of-Experts model (8 experts): QuantStudio's engine refuses gptaq there, as an expert sees ` +
            'different tokens in the full-precision and the quantized model. Remove gptaq.',
        ],
      ],
    );
    assert.deepEqual(
      (await modelDiagnostics(jobPath, gptqJob)).filter((d) => d.code === 'model/gptaq-moe'),
      [],
    );
    assert.deepEqual(
      (await modelDiagnostics(jobPath, job({ quant_method: 'gptq', bits: 4, gptaq: { alpha: 0.25 } }))).filter(
        (d) => d.code === 'model/gptaq-moe',
      ),
      [],
    );
    // The router and the experts as a whole match (transformers matches by name, prefix or suffix); "experts.w1" names
    // no module (each expert's is experts.<index>.w1), and the suggestions hold the experts' names.
    assert.deepEqual(
      found.filter(([code]) => code === 'model/unknown-module').map(([, , m]) => m),
      [
        `"experts.w1" in modules_to_not_convert names no module of ${mixtral}: transformers 5.23 matches nothing and quantizes the module after all. Did you mean "experts"?`,
      ],
    );
    const folder = join(temp, 'mixtral-top9');
    mkdirSync(folder, { recursive: true });
    copyFileSync(join(mixtral, 'model.safetensors'), join(folder, 'model.safetensors'));
    const config = JSON.parse(readFileSync(join(mixtral, 'config.json'), 'utf8'));
    writeFileSync(join(folder, 'config.json'), JSON.stringify({ ...config, num_experts_per_tok: 9 }));
    const unsupported = (await modelDiagnostics(jobPath, job({ quant_method: 'gptq', bits: 4, group_size: 32 }, folder))).filter(
      (d) => d.code === 'model/engine-support',
    );
    assert.deepEqual(
      unsupported.map((d) => d.message),
      [
        `QuantStudio's engine cannot run ${folder}: config.json: \`num_experts_per_tok\` (9) exceeds the 8 experts. ` +
          'Quantize, Benchmark and Generate refuse this job before they start; validation and the memory estimate still work.',
      ],
    );
  });

  it('diagnoses at once while the model resolves, then with the model-aware findings', async () => {
    const fresh = newService();
    const doc = { uri: pathToFileURL(jobPath).href, text: job({ quant_method: 'gptq', bits: 4, group_size: 96 }) };
    const first = await fresh.analyze(doc);
    assert.ok(first.modelPending, 'resolution is reported as pending');
    assert.deepEqual(
      first.diagnostics.filter((d) => d.code.startsWith('model/')),
      [],
    );
    await first.modelPending;
    const second = await fresh.analyze(doc);
    assert.equal(second.modelPending, undefined);
    assert.deepEqual(
      second.diagnostics.filter((d) => d.code.startsWith('model/')).map((d) => d.code),
      ['model/group-size-divides'],
    );
  });

  it('falls back to the quantstudio.model setting for a config that names no model', async () => {
    const svc = newService();
    svc.configureModels({ model: join(repo, 'examples', 'tiny-llama') });
    const text = '{ "bits": 4, "group_size": 96, "desc_act": false, "sym": true }';
    const path = join(temp, 'quantize_config.json');
    const diagnostics = await modelDiagnostics(path, text, svc);
    assert.deepEqual(
      diagnostics.map((d) => [d.code, d.range]),
      [['model/group-size-divides', rangeOf(text, '96')]],
    );
  });

  it('finds the from_pretrained model of a Python config call, through a variable', async () => {
    const text = [
      'from transformers import AutoModelForCausalLM, GPTQConfig',
      'model_id = "../tiny-llama"',
      'config = GPTQConfig(bits=4, group_size=96, modules_to_not_convert=["lm_haed"])',
      'model = AutoModelForCausalLM.from_pretrained(model_id, quantization_config=config)',
      '',
    ].join('\n');
    const diagnostics = await modelDiagnostics(join(configs, 'model_aware_test.py'), text);
    assert.deepEqual(
      diagnostics.map((d) => [d.code, d.range]),
      [
        ['model/group-size-divides', rangeOf(text, '96')],
        ['model/unknown-module', rangeOf(text, '"lm_haed"')],
      ],
    );
  });
});

/** The range of `part` inside the first occurrence of `at` (on one line). */
function partOf(text: string, at: string, part = at): Range {
  const whole = rangeOf(text, at);
  const start = { line: whole.start.line, character: whole.start.character + at.indexOf(part) };
  return { start, end: { line: start.line, character: start.character + part.length } };
}
