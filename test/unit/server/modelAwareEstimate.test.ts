// The memory estimate in the editor: the code lens title and the hover breakdown for example configs,
// recomputed here from the estimate API (native/model) with the test's own formatting; Hub models
// through the loopback Hub; an unreachable Hub as one information note.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { MarkupContent } from 'vscode-languageserver-types';
import { compareMethods, estimateMemory, estimateWithSettings, resolveModel } from '../../../native/model';
import type { JsonObject, MemoryEstimate, ResolvedModel } from '../../../native/model';
import { createLanguageService } from '../../../server/src/service';
import type { LanguageService, ModelSettings } from '../../../server/src/service';
import { startHubServer } from '../../helpers/hubServer';
import type { HubServer } from '../../helpers/hubServer';
import { rangeOf } from '../../lsp/textRanges';

const repo = join(__dirname, '..', '..', '..', '..');
const configs = join(repo, 'examples', 'configs');
const tinyLlama = join(repo, 'examples', 'tiny-llama');
const temp = mkdtempSync(join(tmpdir(), 'qs-estimate-lens-'));
let hub: HubServer;

before(async () => {
  hub = await startHubServer({ 'meta-llama/Llama-3.2-1B': { folder: tinyLlama }, 'test-org/tiny-llama': { folder: tinyLlama } });
});
after(async () => {
  await hub.close();
  rmSync(temp, { recursive: true, force: true });
});

function newService(models: Partial<ModelSettings> = {}): LanguageService {
  return createLanguageService({ models: { hub: { endpoint: hub.url, env: {}, hubCacheDir: join(temp, 'hf-cache') }, ...models } });
}

/** The test's own rendering of sizes: binary units, one decimal. */
function size(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  const power = bytes < 1024 ? 0 : Math.min(units.length - 1, Math.floor(Math.log(bytes) / Math.log(1024)));
  return power === 0 ? `${bytes} B` : `${(bytes / 1024 ** power).toFixed(1)} ${units[power]}`;
}

function expectedTitle(e: MemoryEstimate, batch: number, ctx: string): string {
  return `≈ ${size(e.weightsBytes)} weights · ${size(e.peakBytes)} peak @ bs${batch}, ${ctx} ctx`;
}

async function tiny(): Promise<ResolvedModel> {
  const resolved = await resolveModel(tinyLlama);
  assert.ok(resolved.ok);
  return resolved.model;
}

function estimateOf(model: ResolvedModel, config: JsonObject | undefined, batch: number, seq: number): MemoryEstimate {
  const result = estimateMemory(model, config, { batch, seq });
  assert.ok(result.ok);
  return result.value;
}

async function lensesOf(svc: LanguageService, path: string, text = readFileSync(path, 'utf8')) {
  const doc = { uri: pathToFileURL(path).href, text };
  await svc.resolveModel(doc);
  return { doc, lenses: await svc.codeLenses(doc) };
}

describe('memory estimate lens and hover', () => {
  for (const name of ['tiny-llama-gptq.quant.json', 'tiny-llama-nf4.quant.json']) {
    it(`lens on examples/configs/${name}: the total for tiny-llama at the default bs1, 2k ctx`, async () => {
      const path = join(configs, name);
      const text = readFileSync(path, 'utf8');
      const { lenses } = await lensesOf(newService(), path);
      const config = (JSON.parse(text) as { quantization_config: JsonObject }).quantization_config;
      const expected = estimateOf(await tiny(), config, 1, 2048);
      const estimateLenses = lenses.filter((l) => l.command?.command === 'quantstudio.showEstimate'); // job files also carry command lenses
      assert.deepEqual(estimateLenses.map((l) => [l.range, l.command?.title, l.command?.command]), [[rangeOf(text, '"quantization_config"'), expectedTitle(expected, 1, '2k'), 'quantstudio.showEstimate']]);
      const argument = lenses[0].command?.arguments?.[0] as { estimate: MemoryEstimate };
      assert.deepEqual(argument.estimate, expected);
    });
  }

  it('batch size and context length come from the settings', async () => {
    const path = join(configs, 'tiny-llama-gptq.quant.json');
    const text = readFileSync(path, 'utf8');
    const { lenses } = await lensesOf(newService({ batchSize: 16, contextLength: 512 }), path);
    const config = (JSON.parse(text) as { quantization_config: JsonObject }).quantization_config;
    assert.equal(lenses[0].command?.title, expectedTitle(estimateOf(await tiny(), config, 16, 512), 16, '512'));
  });

  it("a job file's options.batchSize / contextLength win over the settings, and the schema accepts them", async () => {
    const path = join(configs, 'estimate-options.quant.json');
    const config = { quant_method: 'awq', bits: 4, group_size: 128 };
    const text = `${JSON.stringify({ model: '../tiny-llama', quantization_config: config, options: { batchSize: 4, contextLength: 1024 } }, null, 2)}\n`;
    const svc = newService({ batchSize: 16, contextLength: 512 });
    const { doc, lenses } = await lensesOf(svc, path, text);
    assert.equal(lenses[0].command?.title, expectedTitle(estimateOf(await tiny(), config, 4, 1024), 4, '1k'));
    assert.deepEqual(await svc.diagnose(doc), []);
  });

  it('hover on the quantization_config key: breakdown beside the unquantized figures, and the methods compared', async () => {
    const svc = newService();
    const path = join(configs, 'tiny-llama-gptq.quant.json');
    const { doc } = await lensesOf(svc, path);
    const result = await svc.hover(doc, rangeOf(doc.text, '"quantization_config"').start);
    const markdown = (result?.contents as MarkupContent).value;
    const model = await tiny();
    const config = (JSON.parse(doc.text) as { quantization_config: JsonObject }).quantization_config;
    const estimate = estimateOf(model, config, 1, 2048);
    const stored = estimateWithSettings(model, { method: 'none' }, { batch: 1, seq: 2048 });
    assert.ok(stored.ok);
    const storedDown = stored.value.breakdown.find((l) => l.label === 'down_proj')!;
    const down = estimate.breakdown.find((l) => l.label === 'down_proj')!;
    const lines = markdown.split('\n');
    assert.ok(lines.includes(`| down_proj (quantized) | 4 | ${size(down.bytes)} | ${size(storedDown.bytes)} |`), markdown);
    const embeddings = estimate.breakdown.find((l) => l.label === 'embeddings')!;
    assert.ok(lines.includes(`| embeddings (kept) | 1 | ${size(embeddings.bytes)} | ${size(embeddings.bytes)} |`), markdown);
    assert.ok(lines.includes(`| KV cache |  | ${size(estimate.kvCacheBytes)} | ${size(stored.value.kvCacheBytes)} |`), markdown);
    assert.ok(lines.includes(`| **peak** |  | **${size(estimate.peakBytes)}** | ${size(stored.value.peakBytes)} |`), markdown);
    const methods = compareMethods(model, { batch: 1, seq: 2048 });
    assert.ok(methods.ok);
    for (const m of methods.value) assert.ok(lines.includes(`| ${m.label} | ${size(m.estimate.weightsBytes)} | ${size(m.estimate.peakBytes)} |`), m.label);
    // The schema's docs for the key stay first.
    assert.match(markdown, /^\*\*quantization_config\*\*/);
  });

  it('a Python call whose from_pretrained model is a Hub id: resolved through the Hub, lens on the class name', async () => {
    const path = join(configs, 'load_nf4.py');
    const text = readFileSync(path, 'utf8');
    const svc = newService();
    const { lenses } = await lensesOf(svc, path);
    const expected = estimateOf(await tiny(), { quant_method: 'bitsandbytes', load_in_4bit: true, bnb_4bit_quant_type: 'nf4', bnb_4bit_use_double_quant: true }, 1, 2048);
    assert.deepEqual(lenses.map((l) => [l.range, l.command?.title]), [[rangeOf(text, 'BitsAndBytesConfig', 1), expectedTitle(expected, 1, '2k')]]);
    assert.ok(hub.log.some((r) => r.path.includes('meta-llama/Llama-3.2-1B')), 'the loopback Hub was asked');
  });

  it('a Hub that goes away: the answer cached on disk is used, with one information note, and the checks still run', async () => {
    const answers = join(temp, 'answers');
    const text = 'from transformers import AutoModelForCausalLM, GPTQConfig\nAutoModelForCausalLM.from_pretrained("test-org/tiny-llama", quantization_config=GPTQConfig(bits=4, group_size=96))\n';
    const doc = { uri: pathToFileURL(join(temp, 'stale.py')).href, text };
    const shortLived = await startHubServer({ 'test-org/tiny-llama': { folder: tinyLlama } });
    const hubSettings = { endpoint: shortLived.url, env: {}, hubCacheDir: join(temp, 'hf-cache'), cacheDir: answers, timeoutMs: 2000 };
    const online = createLanguageService({ models: { hub: hubSettings } });
    await online.resolveModel(doc);
    await shortLived.close();
    const offline = createLanguageService({ models: { hub: hubSettings } });
    await offline.resolveModel(doc);
    const notes = (await offline.diagnose(doc)).filter((d) => d.code.startsWith('model/'));
    assert.deepEqual(notes.map((d) => [d.code, d.severity, d.range]), [
      ['model/stale', 3, rangeOf(text, '"test-org/tiny-llama"')],
      ['model/group-size-divides', 1, rangeOf(text, '96')],
    ]);
    assert.match(notes[0].message, /^Model "test-org\/tiny-llama": .*using the answer cached at \d{4}-\d\d-\d\dT/);
  });

  it('an unreachable Hub is one information note on the model reference, and no lens', async () => {
    const svc = createLanguageService({ models: { hub: { endpoint: 'http://127.0.0.1:9', env: {}, hubCacheDir: join(temp, 'hf-cache'), timeoutMs: 2000 } } });
    const text = 'from transformers import AutoModelForCausalLM, GPTQConfig\nAutoModelForCausalLM.from_pretrained("test-org/offline-model", quantization_config=GPTQConfig(bits=4, group_size=128))\n';
    const path = join(temp, 'offline.py');
    const started = Date.now();
    const { doc, lenses } = await lensesOf(svc, path, text);
    assert.ok(Date.now() - started < 5000, 'no hang');
    const notes = (await svc.diagnose(doc)).filter((d) => d.code.startsWith('model/'));
    assert.deepEqual(notes.map((d) => [d.code, d.severity, d.range]), [['model/unresolved', 3, rangeOf(text, '"test-org/offline-model"')]]);
    assert.match(notes[0].message, /^Model "test-org\/offline-model" could not be resolved: .*Model-aware checks and the memory estimate are off for this file\.$/);
    assert.deepEqual(lenses, []);
  });
});
