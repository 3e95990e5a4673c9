// The language server over stdio with model-aware features: a config beside a model folder gets its
// model-aware diagnostic once the model is resolved (a second publish), code lenses carry the estimate,
// and a Hub id resolves through the loopback Hub whose endpoint comes from initializationOptions.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { CodeLensRequest } from 'vscode-languageserver-protocol/node';
import type { CodeLens } from 'vscode-languageserver-protocol';
import { startHubServer } from '../helpers/hubServer';
import type { HubServer } from '../helpers/hubServer';
import { isolatedHubEnv, LspSession } from './lspSession';
import { rangeOf } from './textRanges';

const repo = join(__dirname, '..', '..', '..');
const temp = mkdtempSync(join(tmpdir(), 'qs-lsp-model-'));

describe('model-aware language server over stdio', () => {
  let hub: HubServer;
  let session: LspSession;
  before(async () => {
    hub = await startHubServer({ 'test-org/tiny-llama': { folder: join(repo, 'examples', 'tiny-llama') } });
    session = await LspSession.startOnHub(isolatedHubEnv(temp), { endpoint: hub.url });
  });
  after(async () => {
    session.kill();
    await hub.close();
    rmSync(temp, { recursive: true, force: true });
  });

  it('announces code lenses', () => {
    assert.deepEqual(session.initializeResult.capabilities.codeLensProvider, { resolveProvider: false });
  });

  it('publishes the checkpoint mismatch of a config.json beside its weights once the folder is read, and a lens', async () => {
    const folder = join(repo, 'test', 'fixtures', 'model-aware', 'gptq-8bit-g32');
    const uri = pathToFileURL(join(folder, 'config.json')).href;
    const text = readFileSync(join(folder, 'config.json'), 'utf8').replace('"bits": 8', '"bits": 4');
    const first = await session.open(uri, text);
    assert.deepEqual(
      first.filter((d) => String(d.code).startsWith('model/')),
      [],
      'the first publish does not wait for the model',
    );
    const diagnostics = await session.publishedWith(uri, 'model/checkpoint-mismatch');
    const mismatch = diagnostics.find((d) => d.code === 'model/checkpoint-mismatch')!;
    const bits = rangeOf(text, '"bits": 4');
    assert.deepEqual(mismatch.range, { start: { line: bits.start.line, character: bits.end.character - 1 }, end: bits.end });
    assert.equal(mismatch.severity, 1);
    assert.match(
      String(mismatch.message),
      /^bits is 4, but model\.layers\.0\.mlp\.down_proj\.qweight is \[32, 64\] I32, the packing of 8-bit weights/,
    );
    const lenses: CodeLens[] | null = await session.connection.sendRequest(CodeLensRequest.type, { textDocument: { uri } });
    assert.equal(lenses?.length, 1);
    assert.deepEqual(lenses![0].range, rangeOf(text, '"quantization_config"'));
    assert.match(
      lenses![0].command!.title,
      /^≈ \d+\.\d KiB weights · \d+\.\d MiB peak @ bs1, 256 \(model max\) ctx$/,
      "the 2k default capped at the fixture's max_position_embeddings",
    );
    assert.equal(lenses![0].command!.command, 'quantstudio.showEstimate');
  });

  it('resolves a Hub id through the endpoint from initializationOptions, asking only for header ranges', async () => {
    const uri = pathToFileURL(join(temp, 'load.py')).href;
    const text =
      'from transformers import AutoModelForCausalLM, GPTQConfig\nmodel = AutoModelForCausalLM.from_pretrained("test-org/tiny-llama", quantization_config=GPTQConfig(bits=4, group_size=96))\n';
    await session.open(uri, text);
    const diagnostics = await session.publishedWith(uri, 'model/group-size-divides');
    assert.deepEqual(
      diagnostics.filter((d) => String(d.code).startsWith('model/')).map((d) => [d.code, d.range]),
      [['model/group-size-divides', rangeOf(text, '96')]],
    );
    const weightGets = hub.log.filter((r) => r.path.endsWith('.safetensors') && r.method === 'GET');
    assert.ok(
      weightGets.length > 0 && weightGets.every((r) => r.range !== undefined && r.status === 206),
      'only ranged reads of the weights',
    );
    const lenses: CodeLens[] | null = await session.connection.sendRequest(CodeLensRequest.type, { textDocument: { uri } });
    assert.deepEqual(
      lenses?.map((l) => l.range),
      [rangeOf(text, 'GPTQConfig', 1)],
    );
  });

  it('with HF_HUB_OFFLINE set, a Hub id missing from the HF cache is one information note and no request', async () => {
    const offline = await LspSession.startOnHub(isolatedHubEnv(temp, { HF_HUB_OFFLINE: '1' }), { endpoint: hub.url });
    try {
      const requestsBefore = hub.log.length;
      const uri = pathToFileURL(join(temp, 'offline.py')).href;
      const text =
        'from transformers import AutoModelForCausalLM, GPTQConfig\nAutoModelForCausalLM.from_pretrained("test-org/tiny-llama", quantization_config=GPTQConfig(bits=4, group_size=96))\n';
      await offline.open(uri, text);
      const diagnostics = await offline.publishedWith(uri, 'model/unresolved');
      assert.deepEqual(
        diagnostics.filter((d) => String(d.code).startsWith('model/')).map((d) => [d.code, d.severity, d.range, d.message]),
        [
          [
            'model/unresolved',
            3,
            rangeOf(text, '"test-org/tiny-llama"'),
            'Model "test-org/tiny-llama" could not be resolved: test-org/tiny-llama: HF_HUB_OFFLINE is set and the model is not in the Hugging Face cache (download it once with the Hub reachable, or unset HF_HUB_OFFLINE). Model-aware checks and the memory estimate are off for this file.',
          ],
        ],
      );
      assert.equal(hub.log.length, requestsBefore);
    } finally {
      offline.kill();
    }
  });

  it('the quantstudio.model setting applies to a config that names no model', async () => {
    await session.configure({ quantstudio: { model: join(repo, 'examples', 'tiny-llama') } });
    const uri = pathToFileURL(join(temp, 'quantize_config.json')).href;
    const text = '{ "bits": 4, "group_size": 96, "desc_act": false, "sym": true }';
    await session.open(uri, text);
    const diagnostics = await session.publishedWith(uri, 'model/group-size-divides');
    assert.deepEqual(
      diagnostics.filter((d) => d.code === 'model/group-size-divides').map((d) => d.range),
      [rangeOf(text, '96')],
    );
  });
});
