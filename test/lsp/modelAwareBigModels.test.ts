// The language server's model-aware rules on header-only copies of real checkpoints (test/fixtures/big-models): a
// job file beside each model folder, opened over stdio; once the model resolves (the second publish) its model-aware
// diagnostics are exactly these: group sizes against Gemma-3-27B's and Phi-3 / 3.5's widths, module names as each
// checkpoint spells them (tied lm_head, Phi-3's and Phi-4-mini's fused projections, Qwen3's q/k norms, MoE routers and experts),
// kernel and bitsandbytes CPU shapes that every real width passes, GPTQModel's dynamic keys over Mixtral's experts.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { Diagnostic } from 'vscode-languageserver-protocol';
import { writeHeaderOnlyModel } from '../helpers/headerOnlyModel';
import { startHubServer } from '../helpers/hubServer';
import type { HubServer } from '../helpers/hubServer';
import { isolatedHubEnv, LspSession } from './lspSession';
import { rangeOf } from './textRanges';

const temp = mkdtempSync(join(tmpdir(), 'qs-lsp-big-'));

interface Expected {
  code: string;
  severity: number;
  /** The diagnostic covers the first occurrence of this text. */
  at: string;
  message: string;
}

interface Case {
  model: string;
  quantizationConfig: object;
  expected: Expected[];
}

const GROUP_512_GEMMA =
  'group_size 512 does not divide the in_features of model.layers.*.self_attn.q_proj (in 5376), model.layers.*.self_attn.k_proj (in 5376), ' +
  'model.layers.*.self_attn.v_proj (in 5376), model.layers.*.mlp.gate_proj (in 5376), model.layers.*.mlp.up_proj (in 5376) in ./gemma-3-27b-text: ' +
  'GPTQModel 7.7 kernels (loaded through transformers 5.23) require in_features % group_size == 0 and refuse these layers. Use a group size that divides every in_features (128, 64, 32 do).';

const CASES: Case[] = [
  {
    // Layers run 0 … 31; lm_head and a real layer's down_proj are accepted.
    model: 'llama-3.1-8b',
    quantizationConfig: {
      quant_method: 'gptq',
      bits: 4,
      group_size: 128,
      backend: 'marlin',
      modules_to_not_convert: ['lm_head', 'model.layers.0.mlp.down_proj', 'model.layers.32.mlp.down_proj'],
    },
    expected: [
      {
        code: 'model/unknown-module',
        severity: 2,
        at: '"model.layers.32.mlp.down_proj"',
        message:
          '"model.layers.32.mlp.down_proj" in modules_to_not_convert names no module of ./llama-3.1-8b: transformers 5.23 matches nothing and quantizes the module after all. ' +
          'Use a module name from the model (e.g. lm_head, q_proj, mlp.down_proj).',
      },
    ],
  },
  {
    model: 'llama-3.1-70b',
    quantizationConfig: {
      quant_method: 'bitsandbytes',
      load_in_4bit: true,
      bnb_4bit_quant_type: 'nf4',
      llm_int8_skip_modules: ['lm_head', 'mlp.down_proj'],
    },
    expected: [],
  },
  {
    // 5376 / 512 is not whole; 21504 (down_proj's input) and 4096 (o_proj's) are. Tied: lm_head has no tensor but is a module.
    model: 'gemma-3-27b-text',
    quantizationConfig: {
      quant_method: 'gptq',
      bits: 4,
      group_size: 512,
      modules_to_not_convert: ['lm_head', 'model.embed_tokens', 'self_attn.q_norm', 'post_feedforward_layernorm'],
    },
    expected: [{ code: 'model/group-size-divides', severity: 1, at: '512', message: GROUP_512_GEMMA }],
  },
  {
    // Phi-3 fuses q/k/v and gate/up: q_proj is no module of it. down_proj's input is 8192, which 96 does not divide.
    model: 'phi-3-mini-4k',
    quantizationConfig: {
      quant_method: 'awq',
      bits: 4,
      group_size: 96,
      version: 'gemm',
      modules_to_not_convert: ['lm_head', 'q_proj', 'qkv_proj'],
    },
    expected: [
      {
        code: 'model/group-size-divides',
        severity: 1,
        at: '96',
        message:
          'group_size 96 does not divide the in_features of model.layers.*.mlp.down_proj (in 8192) in ./phi-3-mini-4k: AutoAWQ 0.2 WQLinear asserts in_features % group_size == 0, ' +
          'so quantizing or loading fails on these layers. Use a group size that divides every in_features (128, 64, 32 do).',
      },
      {
        code: 'model/unknown-module',
        severity: 2,
        at: '"q_proj"',
        message:
          '"q_proj" in modules_to_not_convert names no module of ./phi-3-mini-4k: transformers 5.23 matches nothing and quantizes the module after all. ' +
          './phi-3-mini-4k fuses q_proj into qkv_proj. Did you mean "qkv_proj"?',
      },
    ],
  },
  {
    // Phi-3.5-mini has Phi-3's widths: 96 divides the 3072 inputs of qkv_proj, o_proj and gate_up_proj, not down_proj's 8192.
    model: 'phi-3.5-mini',
    quantizationConfig: { quant_method: 'gptq', bits: 4, group_size: 96, modules_to_not_convert: ['lm_head'] },
    expected: [
      {
        code: 'model/group-size-divides',
        severity: 1,
        at: '96',
        message:
          'group_size 96 does not divide the in_features of model.layers.*.mlp.down_proj (in 8192) in ./phi-3.5-mini: GPTQModel 7.7 kernels (loaded through transformers 5.23) ' +
          'require in_features % group_size == 0 and refuse these layers. Use a group size that divides every in_features (128, 64, 32 do).',
      },
    ],
  },
  {
    // Phi-4-mini: GQA (qkv_proj 5120 rows), tied lm_head, fused projections.
    model: 'phi-4-mini-reasoning',
    quantizationConfig: {
      quant_method: 'bitsandbytes',
      load_in_4bit: true,
      bnb_4bit_quant_type: 'nf4',
      llm_int8_skip_modules: ['lm_head', 'k_proj', 'self_attn.qkv_proj'],
    },
    expected: [
      {
        code: 'model/unknown-module',
        severity: 2,
        at: '"k_proj"',
        message:
          '"k_proj" in llm_int8_skip_modules names no module of ./phi-4-mini-reasoning: transformers 5.23 (bitsandbytes 0.50) matches nothing and converts the module after all. ' +
          './phi-4-mini-reasoning fuses k_proj into qkv_proj. Did you mean "qkv_proj"?',
      },
    ],
  },
  {
    model: 'qwen3-8b',
    quantizationConfig: {
      quant_method: 'gptq',
      bits: 4,
      group_size: 128,
      backend: 'exllama_v2',
      modules_to_not_convert: ['lm_head', 'self_attn.k_norm'],
    },
    expected: [],
  },
  {
    model: 'mixtral-8x7b',
    quantizationConfig: {
      quant_method: 'gptq',
      bits: 4,
      group_size: 128,
      modules_to_not_convert: ['lm_head', 'block_sparse_moe.gate', 'block_sparse_moe.experts.0.w2'],
      // GPTQModel 7.7's per-module overrides over Mixtral's 32 × 8 experts: the first matching key decides.
      dynamic: {
        '+:.*experts\\.[0-3]\\.w2': { bits: 8 },
        '.*experts\\.\\d+\\.w2': { bits: 3 },
        '-:.*self_attn\\.o_proj$': {},
        w1: {},
      },
    },
    expected: [
      {
        code: 'model/dynamic-match',
        severity: 2,
        at: '".*experts\\\\.\\\\d+\\\\.w2"',
        message:
          'dynamic key ".*experts\\\\.\\\\d+\\\\.w2" also matches 128 modules (model.layers.*.block_sparse_moe.experts.*.w2 ×128) that ' +
          '"+:.*experts\\\\.[0-3]\\\\.w2" decides first (GPTQModel 7.7 takes the first matching key, "-:" keys first): they are quantized with bits 8, not bits 3.',
      },
      {
        code: 'model/dynamic-match',
        severity: 2,
        at: '"w1"',
        message:
          'dynamic key "w1" matches no module of ./mixtral-8x7b (GPTQModel 7.7 matches the full module name from its start, ' +
          'e.g. model.layers.0.mlp.down_proj): it does nothing. Did you mean ".*w1"?',
      },
    ],
  },
  {
    model: 'qwen3-30b-a3b',
    quantizationConfig: {
      quant_method: 'awq',
      bits: 4,
      group_size: 128,
      version: 'gemm',
      modules_to_not_convert: ['lm_head', 'mlp.gate', 'mlp.experts.127.down_proj'],
    },
    expected: [],
  },
];

/** The engine's verdict: it runs and quantizes every model here (AWQ on Qwen3-30B-A3B's experts too), so it names none. */
const ENGINE_SUPPORT = 'model/engine-support';

describe('model-aware rules on real checkpoint shapes over stdio', () => {
  let session: LspSession;
  let hub: HubServer;
  before(async () => {
    for (const c of CASES) writeHeaderOnlyModel(c.model, temp);
    hub = await startHubServer({ 'meta-llama/Llama-3.1-70B': { folder: writeHeaderOnlyModel('llama-3.1-70b', join(temp, 'hub')) } });
    session = await LspSession.startOnHub(isolatedHubEnv(temp), { endpoint: hub.url });
  });
  after(async () => {
    session.kill();
    await hub.close();
    rmSync(temp, { recursive: true, force: true });
  });

  /** The model-aware diagnostics once the model is known: the first publish goes out before it resolves, the second with it. */
  async function resolvedDiagnostics(c: Case, model = `./${c.model}`): Promise<{ text: string; diagnostics: Diagnostic[] }> {
    const file = join(temp, `${model.replace(/\W+/g, '-')}.quant.json`);
    const uri = pathToFileURL(file).href;
    const text = `${JSON.stringify({ model, quantization_config: c.quantizationConfig }, null, 2)}\n`;
    writeFileSync(file, text);
    const first = await session.open(uri, text);
    assert.deepEqual(
      first.filter((d) => String(d.code).startsWith('model/')),
      [],
      `${c.model}: the first publish does not wait for the model`,
    );
    const diagnostics =
      session.published(uri).length > 1 ? session.published(uri).at(-1)!.diagnostics : await session.nextDiagnostics(uri, 60_000);
    return { text, diagnostics: diagnostics.filter((d) => String(d.code).startsWith('model/')) };
  }

  for (const c of CASES) {
    it(`${c.model}: ${c.expected.length ? c.expected.map((e) => e.code).join(', ') : 'no model-aware finding'}`, async () => {
      const { text, diagnostics } = await resolvedDiagnostics(c);
      assert.deepEqual(
        diagnostics.filter((d) => d.code === ENGINE_SUPPORT),
        [],
        `${c.model}: the engine runs it`,
      );
      const actual = diagnostics
        .filter((d) => d.code !== ENGINE_SUPPORT)
        .map((d) => ({ code: d.code, severity: d.severity, range: d.range, message: d.message }));
      assert.deepEqual(
        actual,
        c.expected.map((e) => ({ code: e.code, severity: e.severity, range: rangeOf(text, e.at), message: e.message })),
      );
    });
  }

  it('Mixtral-8x7B: the hover on a dynamic key counts the experts it decides and gives their settings', async () => {
    const { text } = await resolvedDiagnostics(CASES.find((c) => c.model === 'mixtral-8x7b')!);
    const hoverAt = async (key: string): Promise<unknown> => {
      const at = rangeOf(text, JSON.stringify(key)).start;
      const hover = await session.hover(pathToFileURL(join(temp, '-mixtral-8x7b.quant.json')).href, {
        line: at.line,
        character: at.character + 1,
      });
      return hover && (hover.contents as { value: string }).value;
    };
    assert.equal(
      await hoverAt('+:.*experts\\.[0-3]\\.w2'),
      '**dynamic "+:.*experts\\\\.[0-3]\\\\.w2"** on `./mixtral-8x7b`: matches 128 modules (model.layers.*.block_sparse_moe.experts.*.w2 ×128)\n\n' +
        'The modules it decides: GPTQ 8-bit, group size 128.',
    );
    assert.equal(
      await hoverAt('-:.*self_attn\\.o_proj$'),
      '**dynamic "-:.*self_attn\\\\.o_proj$"** on `./mixtral-8x7b`: matches 32 modules (model.layers.*.self_attn.o_proj ×32)\n\n' +
        'The modules it decides: left unquantized (stored as in the source model).',
    );
  });

  it('Llama-3.1-70B from the Hub: 30 shard headers read by range requests, a few hundred kB of its 141 GB', async () => {
    const c: Case = { model: 'llama-3.1-70b', quantizationConfig: { quant_method: 'gptq', bits: 4, group_size: 96 }, expected: [] };
    const { text, diagnostics } = await resolvedDiagnostics(c, 'meta-llama/Llama-3.1-70B');
    assert.deepEqual(
      diagnostics.map((d) => ({ code: d.code, severity: d.severity, range: d.range, message: d.message })),
      [
        {
          code: 'model/group-size-divides',
          severity: 1,
          range: rangeOf(text, '96'),
          message:
            'group_size 96 does not divide the in_features of model.layers.*.self_attn.q_proj (in 8192), model.layers.*.self_attn.k_proj (in 8192), ' +
            'model.layers.*.self_attn.v_proj (in 8192), model.layers.*.self_attn.o_proj (in 8192), model.layers.*.mlp.gate_proj (in 8192), model.layers.*.mlp.up_proj (in 8192), ' +
            'and 1 more in meta-llama/Llama-3.1-70B: GPTQModel 7.7 kernels (loaded through transformers 5.23) require in_features % group_size == 0 and refuse these layers. ' +
            'Use a group size that divides every in_features (128, 64, 32 do).',
        },
      ],
    );
    const shardReads = hub.log.filter((r) => r.path.endsWith('.safetensors') && r.method === 'GET');
    assert.ok(
      shardReads.every((r) => r.range !== undefined && r.status === 206),
      'only ranged reads of the shards',
    );
    assert.equal(new Set(shardReads.map((r) => r.path)).size, 30);
    const read = shardReads.reduce((a, r) => a + r.bytes, 0);
    assert.ok(read < 1_000_000, `${read} bytes read`);
  });
});
