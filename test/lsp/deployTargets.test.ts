// Deployment targets over stdio: quantstudio.deploymentTargets (initializationOptions, then a settings change)
// and a job file's own deploymentTargets make the server report where a target refuses a config or serves it on a
// slower kernel, with the quick fix that brings the fast kernel back, per layer group once the model is known
// (header-only Phi-3-mini and Gemma-3-27B, and the odd-width fixture), and the config hover lists the kernels.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { Diagnostic, MarkupContent, TextEdit } from 'vscode-languageserver-protocol';
import { writeHeaderOnlyModel } from '../helpers/headerOnlyModel';
import { isolatedHubEnv, LspSession } from './lspSession';
import { after as positionAfter, rangeOf } from './textRanges';

const temp = mkdtempSync(join(tmpdir(), 'qs-lsp-deploy-'));
const oddWidths = join(__dirname, '..', '..', '..', 'test', 'fixtures', 'model-aware', 'fp16-odd-widths');
const DEPLOY = 'deploy/target-kernel';

const apply = (text: string, edits: TextEdit[]): string =>
  TextDocument.applyEdits(TextDocument.create('file:///x', 'json', 1, text), edits);
const deployOnly = (ds: Diagnostic[]) =>
  ds.filter((d) => d.code === DEPLOY).map((d) => ({ severity: d.severity, range: d.range, message: d.message }));

describe('deployment targets over stdio', () => {
  let session: LspSession;
  before(async () => {
    writeHeaderOnlyModel('phi-3-mini-4k', temp);
    writeHeaderOnlyModel('gemma-3-27b-text', temp);
    session = await LspSession.start({
      env: isolatedHubEnv(temp),
      initializationOptions: {
        quantstudio: { validation: { debounceMs: 0 }, deploymentTargets: ['vllm', 'gptqmodel', 'no-such-runtime'] },
      },
    });
  });
  after(() => {
    session.kill();
    rmSync(temp, { recursive: true, force: true });
  });

  /** Opens a job file and returns its diagnostics once the model has resolved (the second publish, unless it already was). */
  async function openJob(name: string, job: object, resolved = false): Promise<{ uri: string; text: string; diagnostics: Diagnostic[] }> {
    const file = join(temp, `${name}.quant.json`);
    const uri = pathToFileURL(file).href;
    const text = `${JSON.stringify(job, null, 2)}\n`;
    writeFileSync(file, text);
    const first = await session.open(uri, text);
    if (resolved) return { uri, text, diagnostics: first };
    const diagnostics =
      session.published(uri).length > 1 ? session.published(uri).at(-1)!.diagnostics : await session.nextDiagnostics(uri, 60_000);
    return { uri, text, diagnostics };
  }

  it('the setting: sym false keeps vLLM and GPTQModel off Marlin; the fix sets sym true', async () => {
    const { uri, text, diagnostics } = await openJob('phi-asym', {
      model: './phi-3-mini-4k',
      quantization_config: { quant_method: 'gptq', bits: 4, group_size: 128, sym: false },
    });
    const at = rangeOf(text, 'false');
    assert.deepEqual(deployOnly(diagnostics), [
      {
        severity: 3,
        range: at,
        message:
          'Deployment target vllm: vLLM main@055e47c serves it with gptq (gptq_gemm, float16 only), a slower path than its best kernel: ' +
          'Marlin takes symmetric GPTQ only (sym true): not gptq_marlin-compatible, served by the plain gptq method. Set sym to true for its fast kernel.',
      },
      {
        severity: 3,
        range: at,
        message:
          'Deployment target gptqmodel: GPTQModel 7.7 serves it with ExllamaV2Linear, a slower path than its best kernel: ' +
          'Marlin takes symmetric GPTQ only (sym true). Set sym to true for its fast kernel.',
      },
    ]);
    const vllm = diagnostics.find((d) => d.code === DEPLOY)!;
    const actions = await session.codeActions(uri, vllm.range, [vllm]);
    assert.deepEqual(
      actions.map((a) => a.title),
      ['Set sym to true'],
    );
    const fixed = apply(text, actions[0]!.edit!.changes![uri]!);
    assert.equal(fixed, text.replace('"sym": false', '"sym": true'));
    assert.deepEqual(deployOnly(await session.change(uri, [{ text: fixed }])), [], 'sym true: both on Marlin for every Phi-3 width');
  });

  it("a job file's deploymentTargets wins over the setting: Gemma-3-27B at group_size 1024 on GPTQModel, fixed by 128", async () => {
    const { uri, text, diagnostics } = await openJob('gemma-1024', {
      model: './gemma-3-27b-text',
      quantization_config: { quant_method: 'gptq', bits: 4, group_size: 1024, sym: true },
      deploymentTargets: ['gptqmodel', 'llama.cpp'],
    });
    assert.deepEqual(deployOnly(diagnostics), [
      {
        severity: 3,
        range: rangeOf(text, '{', 1),
        message:
          'Deployment target llama.cpp: llama.cpp (llama-cpp-python 0.3.36) takes it only as GGUF (convert_hf_to_gguf.py dequantizes to float): ' +
          'llama.cpp runs GGUF only: the GPTQ weights are dequantized to float when converted, and their rounding is lost unless quantized again with llama-quantize.',
      },
      {
        severity: 3,
        range: rangeOf(text, '1024'),
        message:
          'Deployment target gptqmodel: GPTQModel 7.7 serves it with TritonV2Linear, a slower path than its best kernel: ' +
          'Marlin takes group_size -1, 32, 64 or 128, not 1024. Set group_size to 128 for its fast kernel.',
      },
    ]);
    const hover = await session.hover(uri, positionAfter(text, '"quantization'));
    const markdown = (hover?.contents as MarkupContent).value;
    const part = markdown.slice(markdown.indexOf('**Deployment targets**'));
    assert.equal(
      part,
      [
        '**Deployment targets**',
        '**gptqmodel** (GPTQModel 7.7):\n' +
          [
            ['self_attn.q_proj', 5376, 4096, 'none (refused): group_size 1024 does not divide in_features 5376'],
            ['self_attn.k_proj', 5376, 2048, 'none (refused): group_size 1024 does not divide in_features 5376'],
            ['self_attn.v_proj', 5376, 2048, 'none (refused): group_size 1024 does not divide in_features 5376'],
            ['self_attn.o_proj', 4096, 5376, 'TritonV2Linear (slower path): Marlin takes group_size -1, 32, 64 or 128, not 1024'],
            ['mlp.gate_proj', 5376, 21504, 'none (refused): group_size 1024 does not divide in_features 5376'],
            ['mlp.up_proj', 5376, 21504, 'none (refused): group_size 1024 does not divide in_features 5376'],
            ['mlp.down_proj', 21504, 5376, 'TritonV2Linear (slower path): Marlin takes group_size -1, 32, 64 or 128, not 1024'],
          ]
            .map(([m, i, o, k]) => `- \`model.layers.*.${m}\` (in ${i}, out ${o}): ${k}`)
            .join('\n'),
        '**llama.cpp** (llama.cpp (llama-cpp-python 0.3.36)): GGUF (convert_hf_to_gguf.py dequantizes to float) (slower path) for every layer: ' +
          'llama.cpp runs GGUF only: the GPTQ weights are dequantized to float when converted, and their rounding is lost unless quantized again with llama-quantize',
      ].join('\n\n'),
    );
  });

  it('a settings change to tgi: layers off the Marlin tile (widths 80 and 160) are named, refused', async () => {
    await session.configure({ quantstudio: { deploymentTargets: ['tgi'] } });
    const { text, diagnostics } = await openJob('odd', {
      model: oddWidths,
      quantization_config: { quant_method: 'gptq', bits: 4, group_size: -1, sym: true },
    });
    assert.deepEqual(deployOnly(diagnostics), [
      {
        severity: 2,
        range: rangeOf(text, '{', 1),
        message:
          'Deployment target tgi: TGI main@1629d0b refuses model.layers.*.mlp.down_proj (in 160, out 80), model.layers.*.mlp.gate_proj (in 80, out 160), ' +
          'model.layers.*.mlp.up_proj (in 80, out 160), model.layers.*.self_attn.k_proj (in 80, out 80), and 3 more in ' +
          `${oddWidths}: GPTQMarlinLinear needs (in % 128, out % 64) or (in % 64, out % 128).`,
      },
    ]);
  });

  it('vLLM AWQ without zero points: the plain awq method, and the fix sets zero_point true', async () => {
    await session.configure({ quantstudio: { deploymentTargets: ['vllm'] } });
    const { uri, text, diagnostics } = await openJob(
      'phi-awq',
      {
        model: './phi-3-mini-4k',
        quantization_config: { quant_method: 'awq', bits: 4, group_size: 128, zero_point: false, version: 'gemm' },
      },
      true,
    ); // Phi-3 resolved in the first case: one publish
    assert.deepEqual(deployOnly(diagnostics), [
      {
        severity: 3,
        range: rangeOf(text, 'false'),
        message:
          'Deployment target vllm: vLLM main@055e47c serves it with awq (unoptimized AWQ kernels), a slower path than its best kernel: ' +
          'awq_marlin takes AWQ with zero points only (zero_point true). Set zero_point to true for its fast kernel.',
      },
    ]);
    const diagnostic = diagnostics.find((d) => d.code === DEPLOY)!;
    const actions = await session.codeActions(uri, diagnostic.range, [diagnostic]);
    assert.equal(apply(text, actions[0]!.edit!.changes![uri]!), text.replace('"zero_point": false', '"zero_point": true'));
  });
});
