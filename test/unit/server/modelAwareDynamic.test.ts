// GPTQModel 7.7's `dynamic` against real module lists (test/fixtures/big-models header-only copies): keys that match
// nothing, keys another key overrules (with GPTQModel's "-:"-first precedence and vLLM's file order), the hover on a
// key, and the estimate's bits per weight in the lens, through createLanguageService.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { MarkupContent } from 'vscode-languageserver-types';
import { createLanguageService } from '../../../server/src/service';
import type { LanguageService } from '../../../server/src/service';
import { writeHeaderOnlyModel } from '../../helpers/headerOnlyModel';
import { rangeOf } from '../../lsp/textRanges';

const repo = join(__dirname, '..', '..', '..', '..');
const temp = mkdtempSync(join(tmpdir(), 'qs-dynamic-lsp-'));
after(() => rmSync(temp, { recursive: true, force: true }));
const corpusText = readFileSync(
  join(repo, 'test', 'fixtures', 'corpus', 'gptqmodel-deepseek-r1-distill-dynamic', 'quantize_config.json'),
  'utf8',
);
const corpus = JSON.parse(corpusText) as { dynamic: Record<string, object> };

let service: LanguageService;
before(() => {
  for (const name of ['llama-3.1-8b', 'gemma-3-27b-text']) writeHeaderOnlyModel(name, temp);
  service = createLanguageService({ models: { hub: { env: {}, hubCacheDir: join(temp, 'hf-cache') } } });
});

// The corpus's dynamic plus three keys: one overruled in part by each of the others, one spelled without ".*".
const dynamic = {
  ...corpus.dynamic,
  '.*mlp\\.(down|up)_proj': { bits: 3 },
  'mlp.gate_proj': {},
  '-:model\\.layers\\.(0|31)\\.mlp\\.up_proj': {},
};
const jobText = `${JSON.stringify({ model: './llama-3.1-8b', quantization_config: { quant_method: 'gptq', ...corpus, dynamic } }, null, 2)}\n`;
const jobDoc = { uri: pathToFileURL(join(temp, 'mixed.quant.json')).href, text: jobText };

async function hoverOn(doc: { uri: string; text: string }, key: string): Promise<string | undefined> {
  const at = rangeOf(doc.text, JSON.stringify(key)).start;
  const hover = await service.hover(doc, { line: at.line, character: at.character + 1 });
  return (hover?.contents as MarkupContent | undefined)?.value;
}

describe('dynamic on Llama-3.1-8B', () => {
  it('reports the key that matches nothing and the modules another key decides first, on the keys (the job runs: only bits and group_size are overridden)', async () => {
    await service.resolveModel(jobDoc);
    const found = (await service.diagnose(jobDoc)).filter((d) => d.code === 'model/dynamic-match' || d.code === 'gptq/dynamic-in-job');
    const overlap = rangeOf(jobText, JSON.stringify('.*mlp\\.(down|up)_proj'));
    assert.deepEqual(
      found.map((d) => ({ code: d.code, severity: d.severity, range: d.range, message: d.message })),
      [
        {
          code: 'model/dynamic-match',
          severity: 2,
          range: overlap,
          message:
            'dynamic key ".*mlp\\\\.(down|up)_proj" also matches 2 modules (model.layers.0.mlp.up_proj, model.layers.31.mlp.up_proj) ' +
            'that "-:model\\\\.layers\\\\.(0|31)\\\\.mlp\\\\.up_proj" decides first ' +
            '(GPTQModel 7.7 takes the first matching key, "-:" keys first): they are left unquantized, not bits 3. ' +
            'vLLM reads the keys in file order and would give them ".*mlp\\\\.(down|up)_proj"\'s settings instead: write "-:model\\\\.layers\\\\.(0|31)\\\\.mlp\\\\.up_proj" first.',
        },
        {
          code: 'model/dynamic-match',
          severity: 2,
          range: overlap,
          message:
            'dynamic key ".*mlp\\\\.(down|up)_proj" also matches 32 modules (model.layers.*.mlp.down_proj ×32) that "+:.*mlp.down_proj" decides first ' +
            '(GPTQModel 7.7 takes the first matching key, "-:" keys first): they are quantized with bits 8, group_size 32, not bits 3.',
        },
        {
          code: 'model/dynamic-match',
          severity: 2,
          range: rangeOf(jobText, '"mlp.gate_proj"'),
          message:
            'dynamic key "mlp.gate_proj" matches no module of ./llama-3.1-8b (GPTQModel 7.7 matches the full module name from its start, ' +
            'e.g. model.layers.0.mlp.down_proj): it does nothing. Did you mean ".*mlp.gate_proj"?',
        },
      ],
    );
  });

  it('the hover on a key lists the modules it matches and what the ones it decides get', async () => {
    assert.equal(
      await hoverOn(jobDoc, '+:.*mlp.down_proj'),
      '**dynamic "+:.*mlp.down_proj"** on `./llama-3.1-8b`: matches 32 modules (model.layers.*.mlp.down_proj ×32)\n\nThe modules it decides: GPTQ 8-bit, group size 32, act-order.',
    );
    assert.equal(
      await hoverOn(jobDoc, '.*mlp\\.(down|up)_proj'),
      '**dynamic ".*mlp\\\\.(down|up)_proj"** on `./llama-3.1-8b`: matches 64 modules (model.layers.*.mlp.down_proj ×32, model.layers.*.mlp.up_proj ×32)\n\n' +
        'Decides 30 of them; an earlier key decides the rest (GPTQModel 7.7: the first matching key wins, "-:" keys first).\n\n' +
        'The modules it decides: GPTQ 3-bit, group size 128, act-order.',
    );
  });

  it('the lens counts each module at its own bits and group size', async () => {
    const [lens] = await service.codeLenses(jobDoc);
    assert.match(lens.command!.title, /^≈ 9\.1 GiB weights \(5\.16 bits\/weight\) · /);
  });
});

describe("the corpus's quantize_config.json on Gemma-3-27B (tied lm_head)", () => {
  it('"-:.*lm_head" matches the tied lm_head; nothing to report', async () => {
    const svc = createLanguageService({ models: { hub: { env: {}, hubCacheDir: join(temp, 'hf-cache') } } });
    svc.configureModels({ model: join(temp, 'gemma-3-27b-text') });
    const doc = { uri: pathToFileURL(join(temp, 'deepseek', 'quantize_config.json')).href, text: corpusText };
    await svc.resolveModel(doc);
    const codes = (await svc.diagnose(doc)).map((d) => d.code);
    assert.deepEqual(
      codes.filter((c) => c.includes('dynamic')),
      [],
    );
    const at = rangeOf(corpusText, '"-:.*lm_head"').start;
    const hover = await svc.hover(doc, { line: at.line, character: at.character + 1 });
    assert.equal(
      (hover?.contents as MarkupContent).value,
      `**dynamic "-:.*lm_head"** on \`${join(temp, 'gemma-3-27b-text')}\`: matches 1 module (lm_head)\n\nThe modules it decides: left unquantized (stored as in the source model).`,
    );
  });
});
