// The memory estimate in the editor: the code lens title and the hover breakdown for example configs,
// recomputed here from the estimate API (native/model) with the test's own formatting; job files on the
// CPU engine they run on; the context capped at the model's max_position_embeddings; what a config leaves
// unsaid and why there is no estimate; Hub models through the loopback Hub; an unreachable Hub as one note.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { MarkupContent } from 'vscode-languageserver-types';
import {
  compareMethods,
  engineThreads,
  estimateCpuMemory,
  estimateMemory,
  estimateWithSettings,
  resolveModel,
  predictQuantizeJob,
  quantizeJobSummary,
} from '../../../native/model';
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

/** The quantized Linears' stored bits per weight, two decimals, after the weights. */
function bits(e: MemoryEstimate): string {
  return e.bitsPerWeight === undefined ? '' : ` (${e.bitsPerWeight.toFixed(2)} bits/weight)`;
}

function expectedTitle(e: MemoryEstimate, batch: number, ctx: string): string {
  return `≈ ${size(e.weightsBytes)} weights${bits(e)} · ${size(e.peakBytes)} peak @ bs${batch}, ${ctx} ctx`;
}

function expectedCpuTitle(e: MemoryEstimate, batch: number, ctx: string): string {
  return `≈ ${size(e.weightsBytes)} weights${bits(e)} · ${size(e.peakBytes)} peak RSS on the CPU engine @ bs${batch}, ${ctx} ctx`;
}

/** The job's own quantize run, as the worker predicts it (the lens's tail): peak RSS and time at the service's threads. */
async function quantizingOf(text: string, file: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const job = JSON.parse(text) as { quantization_config: JsonObject; algorithm?: string; calibration?: JsonObject };
  const fields = { config: job.quantization_config, algorithm: job.algorithm, calibration: job.calibration };
  const e = await predictQuantizeJob(tinyLlama, fields, env, dirname(file));
  assert.ok(e?.ok);
  return ` · quantizing: ${quantizeJobSummary(e.value)}`;
}

/** tiny-llama's max_position_embeddings: the default 2k context is capped to it. */
const TINY_MAX = 512;

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

/** What a job worker on this machine would hold: the engine's threads, the model's tokenizer, a prompt of seq tokens. */
function cpuEstimateOf(model: ResolvedModel, config: JsonObject, batch: number, seq: number): MemoryEstimate {
  const tokenizerBytes = statSync(join(tinyLlama, 'tokenizer.json')).size;
  const result = estimateCpuMemory(model, config, {
    batch,
    promptTokens: seq,
    newTokens: 0,
    threads: engineThreads(cpus().length),
    tokenizerBytes,
  });
  assert.ok(result.ok);
  return result.value;
}

const hubPython = (config: string): string =>
  `from transformers import AutoModelForCausalLM, GPTQConfig\nAutoModelForCausalLM.from_pretrained("test-org/tiny-llama", quantization_config=${config})\n`;

async function lensesOf(svc: LanguageService, path: string, text = readFileSync(path, 'utf8')) {
  const doc = { uri: pathToFileURL(path).href, text };
  await svc.resolveModel(doc);
  return { doc, lenses: await svc.codeLenses(doc) };
}

describe('memory estimate lens and hover', () => {
  for (const name of ['tiny-llama-gptq.quant.json', 'tiny-llama-nf4.quant.json']) {
    it(`lens on examples/configs/${name}: the CPU engine's peak for tiny-llama at bs1, the 2k default capped at the model's 512`, async () => {
      const path = join(configs, name);
      const text = readFileSync(path, 'utf8');
      const { lenses } = await lensesOf(newService(), path);
      const config = (JSON.parse(text) as { quantization_config: JsonObject }).quantization_config;
      const expected = cpuEstimateOf(await tiny(), config, 1, TINY_MAX);
      const estimateLenses = lenses.filter((l) => l.command?.command === 'quantstudio.showEstimate'); // job files also carry command lenses
      const title = expectedCpuTitle(expected, 1, '512 (model max)') + (await quantizingOf(text, path));
      assert.match(title, / · quantizing: ≈ \d+\.\d MiB peak RSS · ≈ \d+(\.\d)? (s|min) on \d+ threads?$/);
      assert.deepEqual(
        estimateLenses.map((l) => [l.range, l.command?.title, l.command?.command]),
        [[rangeOf(text, '"quantization_config"'), title, 'quantstudio.showEstimate']],
      );
      const argument = lenses[0].command?.arguments?.[0] as { estimate: MemoryEstimate; target: string };
      assert.deepEqual([argument.target, argument.estimate], ['cpu', expected]);
    });
  }

  it('batch size and context length come from the settings', async () => {
    const path = join(configs, 'tiny-llama-gptq.quant.json');
    const text = readFileSync(path, 'utf8');
    const { lenses } = await lensesOf(newService({ batchSize: 16, contextLength: 256, threads: 3 }), path);
    const config = (JSON.parse(text) as { quantization_config: JsonObject }).quantization_config;
    const tokenizerBytes = statSync(join(tinyLlama, 'tokenizer.json')).size;
    const expected = estimateCpuMemory(await tiny(), config, { batch: 16, promptTokens: 256, newTokens: 0, threads: 3, tokenizerBytes });
    assert.ok(expected.ok);
    const quantizing = await quantizingOf(text, path, { QUANTSTUDIO_THREADS: '3' });
    assert.match(quantizing, / on 3 threads$/);
    assert.equal(lenses[0].command?.title, expectedCpuTitle(expected.value, 16, '256') + quantizing);
  });

  it("a job file's options.batchSize / contextLength win over the settings, and the schema accepts them", async () => {
    const path = join(configs, 'estimate-options.quant.json');
    const config = { quant_method: 'awq', bits: 4, group_size: 128 };
    const text = `${JSON.stringify({ model: '../tiny-llama', quantization_config: config, options: { batchSize: 4, contextLength: 300 } }, null, 2)}\n`;
    const svc = newService({ batchSize: 16, contextLength: 256 });
    const { doc, lenses } = await lensesOf(svc, path, text);
    const quantizing = await quantizingOf(text, path);
    assert.match(quantizing, / on \d+ threads?$/, "AWQ's search is priced (awqSearchWork.ts)");
    assert.equal(lenses[0].command?.title, expectedCpuTitle(cpuEstimateOf(await tiny(), config, 4, 300), 4, '300') + quantizing);
    assert.deepEqual(await svc.diagnose(doc), []);
  });

  it("hover on a job file: its own quantize run's peak RSS by part and time by phase, as the worker predicts them", async () => {
    const path = join(configs, 'tiny-llama-gptq.quant.json');
    const svc = newService();
    const { doc } = await lensesOf(svc, path);
    const result = await svc.hover(doc, rangeOf(doc.text, '"quantization_config"').start);
    const markdown = (result?.contents as MarkupContent).value;
    const job = JSON.parse(doc.text) as { quantization_config: JsonObject; calibration?: JsonObject };
    const e = await predictQuantizeJob(tinyLlama, { config: job.quantization_config, calibration: job.calibration }, process.env, configs);
    assert.ok(e?.ok && e.value.time.ok);
    const { samples, seqLen } = e.value.options;
    assert.ok(
      markdown.includes(`**Quantizing (gptq, ${samples} × ${seqLen} calibration tokens): ${quantizeJobSummary(e.value)}**`),
      markdown,
    );
    assert.deepEqual(
      e.value.time.value.phases.map((p) => p.label),
      [
        "calibration forwards through each layer (and AWQ's block replays, signRound's steps)",
        'GPTQ Hessians',
        "GPTQ: each Hessian's inverse Cholesky factor",
        'GPTQ column updates',
        'reading, rounding and packing the weights',
        'reading the source and writing the checkpoint',
        'tokenizing the calibration text',
      ],
    );
    for (const p of e.value.time.value.phases) assert.ok(markdown.includes(`| ${p.label} | ${p.seconds.toFixed(1)} |`), p.label);
    assert.ok(markdown.includes(`| **peak** | **${size(e.value.memory.peakBytes)}** |`));
  });

  it('hover on a Python config: breakdown beside the unquantized figures, and the methods compared', async () => {
    const svc = newService();
    const doc = { uri: pathToFileURL(join(temp, 'hover.py')).href, text: hubPython('GPTQConfig(bits=4, group_size=128)') };
    await svc.resolveModel(doc);
    const result = await svc.hover(doc, rangeOf(doc.text, 'GPTQConfig', 1).start);
    const markdown = (result?.contents as MarkupContent).value;
    const model = await tiny();
    const estimate = estimateOf(model, { quant_method: 'gptq', bits: 4, group_size: 128 }, 1, TINY_MAX);
    const stored = estimateWithSettings(model, { method: 'none' }, { batch: 1, seq: TINY_MAX });
    assert.ok(stored.ok);
    const storedDown = stored.value.breakdown.find((l) => l.label === 'down_proj')!;
    const down = estimate.breakdown.find((l) => l.label === 'down_proj')!;
    const lines = markdown.split('\n');
    assert.ok(
      lines.includes('**Memory estimate: GPTQ 4-bit g128** for `test-org/tiny-llama` @ batch 1, 512 (model max) context'),
      markdown,
    );
    assert.ok(lines.includes(`| down_proj (quantized) | 4 | ${size(down.bytes)} | ${size(storedDown.bytes)} |`), markdown);
    const embeddings = estimate.breakdown.find((l) => l.label === 'embeddings')!;
    assert.ok(lines.includes(`| embeddings (kept) | 1 | ${size(embeddings.bytes)} | ${size(embeddings.bytes)} |`), markdown);
    assert.ok(lines.includes(`| KV cache |  | ${size(estimate.kvCacheBytes)} | ${size(stored.value.kvCacheBytes)} |`), markdown);
    assert.ok(lines.includes(`| **peak** |  | **${size(estimate.peakBytes)}** | ${size(stored.value.peakBytes)} |`), markdown);
    const methods = compareMethods(model, { batch: 1, seq: TINY_MAX });
    assert.ok(methods.ok);
    for (const m of methods.value)
      assert.ok(lines.includes(`| ${m.label} | ${size(m.estimate.weightsBytes)} | ${size(m.estimate.peakBytes)} |`), m.label);
  });

  it("hover on a job file's quantization_config key: the CPU engine's lines, after the schema's docs", async () => {
    const svc = newService();
    const path = join(configs, 'tiny-llama-gptq.quant.json');
    const { doc } = await lensesOf(svc, path);
    const markdown = ((await svc.hover(doc, rangeOf(doc.text, '"quantization_config"').start))?.contents as MarkupContent).value;
    const config = (JSON.parse(doc.text) as { quantization_config: JsonObject }).quantization_config;
    const estimate = cpuEstimateOf(await tiny(), config, 1, TINY_MAX);
    assert.match(markdown, /^\*\*quantization_config\*\*/);
    assert.ok(markdown.includes('on the CPU engine (peak RSS of the job worker) @ batch 1, 512 (model max) context'), markdown);
    const kv = estimate.breakdown.find((l) => l.label === 'KV cache (fp32)')!;
    assert.ok(
      markdown.split('\n').some((l) => l.startsWith(`| KV cache (fp32) | ${kv.count} | ${size(kv.bytes)} |`)),
      markdown,
    );
  });

  it('a config the estimate cannot take says why on the lens and the hover, instead of no lens', async () => {
    const svc = newService();
    const doc = { uri: pathToFileURL(join(temp, 'five.py')).href, text: hubPython('GPTQConfig(bits=5, group_size=128)') };
    await svc.resolveModel(doc);
    const lenses = await svc.codeLenses(doc);
    assert.deepEqual(
      lenses.map((l) => [l.range, l.command?.title]),
      [[rangeOf(doc.text, 'GPTQConfig', 1), 'No memory estimate: GPTQ with 5 bits (use bits 2, 3, 4 or 8)']],
    );
    const hover = ((await svc.hover(doc, rangeOf(doc.text, 'GPTQConfig', 1).start))?.contents as MarkupContent).value;
    assert.ok(hover.endsWith('**No memory estimate** for `test-org/tiny-llama`: GPTQ with 5 bits (use bits 2, 3, 4 or 8)'), hover);
  });

  it('values the config leaves out or writes with the wrong type: the lens says what it assumed', async () => {
    const svc = newService();
    const model = await tiny();
    const cases: Array<[string, string]> = [
      ['GPTQConfig(group_size=128)', 'bits 4 (not given)'],
      ['GPTQConfig(bits="4", group_size=128)', 'bits 4 (bits "4" is not a number)'],
      ['GPTQConfig(bits=n_bits, group_size=128)', 'bits 4 (bits=n_bits is not a literal)'],
    ];
    for (const [call, assumed] of cases) {
      const doc = { uri: pathToFileURL(join(temp, 'assumed.py')).href, text: hubPython(call) };
      await svc.resolveModel(doc);
      const lenses = await svc.codeLenses(doc);
      const expected = estimateOf(model, { quant_method: 'gptq', bits: 4, group_size: 128 }, 1, TINY_MAX);
      assert.deepEqual(
        lenses.map((l) => l.command?.title),
        [`${expectedTitle(expected, 1, '512 (model max)')} · assumed ${assumed}`],
        call,
      );
    }
    // a complete config assumes nothing
    const doc = { uri: pathToFileURL(join(temp, 'complete.py')).href, text: hubPython('GPTQConfig(bits=4, group_size=128)') };
    await svc.resolveModel(doc);
    assert.doesNotMatch((await svc.codeLenses(doc))[0]?.command?.title ?? '', /assumed/);
  });

  it('a Python call whose from_pretrained model is a Hub id: resolved through the Hub, lens on the class name', async () => {
    const path = join(configs, 'load_nf4.py');
    const text = readFileSync(path, 'utf8');
    const svc = newService();
    const { lenses } = await lensesOf(svc, path);
    const expected = estimateOf(
      await tiny(),
      { quant_method: 'bitsandbytes', load_in_4bit: true, bnb_4bit_quant_type: 'nf4', bnb_4bit_use_double_quant: true },
      1,
      TINY_MAX,
    );
    assert.deepEqual(
      lenses.map((l) => [l.range, l.command?.title]),
      [[rangeOf(text, 'BitsAndBytesConfig', 1), expectedTitle(expected, 1, '512 (model max)')]],
    );
    assert.ok(
      hub.log.some((r) => r.path.includes('meta-llama/Llama-3.2-1B')),
      'the loopback Hub was asked',
    );
  });

  it('a Hub that goes away: the answer cached on disk is used, with one information note, and the checks still run', async () => {
    const answers = join(temp, 'answers');
    const text =
      'from transformers import AutoModelForCausalLM, GPTQConfig\nAutoModelForCausalLM.from_pretrained("test-org/tiny-llama", quantization_config=GPTQConfig(bits=4, group_size=96))\n';
    const doc = { uri: pathToFileURL(join(temp, 'stale.py')).href, text };
    const shortLived = await startHubServer({ 'test-org/tiny-llama': { folder: tinyLlama } });
    const hubSettings = { endpoint: shortLived.url, env: {}, hubCacheDir: join(temp, 'hf-cache'), cacheDir: answers, timeoutMs: 2000 };
    const online = createLanguageService({ models: { hub: hubSettings } });
    await online.resolveModel(doc);
    await shortLived.close();
    const offline = createLanguageService({ models: { hub: hubSettings } });
    await offline.resolveModel(doc);
    const notes = (await offline.diagnose(doc)).filter((d) => d.code.startsWith('model/'));
    assert.deepEqual(
      notes.map((d) => [d.code, d.severity, d.range]),
      [
        ['model/stale', 3, rangeOf(text, '"test-org/tiny-llama"')],
        ['model/group-size-divides', 1, rangeOf(text, '96')],
      ],
    );
    assert.match(notes[0].message, /^Model "test-org\/tiny-llama": .*using the answer cached at \d{4}-\d\d-\d\dT/);
  });

  it('an unreachable Hub is one information note on the model reference, and no lens', async () => {
    const svc = createLanguageService({
      models: { hub: { endpoint: 'http://127.0.0.1:9', env: {}, hubCacheDir: join(temp, 'hf-cache'), timeoutMs: 2000 } },
    });
    const text =
      'from transformers import AutoModelForCausalLM, GPTQConfig\nAutoModelForCausalLM.from_pretrained("test-org/offline-model", quantization_config=GPTQConfig(bits=4, group_size=128))\n';
    const path = join(temp, 'offline.py');
    const started = Date.now();
    const { doc, lenses } = await lensesOf(svc, path, text);
    assert.ok(Date.now() - started < 5000, 'no hang');
    const notes = (await svc.diagnose(doc)).filter((d) => d.code.startsWith('model/'));
    assert.deepEqual(
      notes.map((d) => [d.code, d.severity, d.range]),
      [['model/unresolved', 3, rangeOf(text, '"test-org/offline-model"')]],
    );
    assert.match(
      notes[0].message,
      /^Model "test-org\/offline-model" could not be resolved: .*Model-aware checks and the memory estimate are off for this file\.$/,
    );
    assert.deepEqual(lenses, []);
  });
});
