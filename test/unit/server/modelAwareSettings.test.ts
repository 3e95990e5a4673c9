// The server settings the model-aware features read: model, Hub endpoint/token and estimate shape, as VS Code
// sends them (nested under quantstudio) and as plain initializationOptions; bad values keep the current ones.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_SETTINGS, readSettings } from '../../../server/src/lsp/settings';

describe('model-aware server settings', () => {
  it('reads model, hub and estimate settings nested under quantstudio', () => {
    const settings = readSettings(
      {
        quantstudio: {
          model: ' ./models/llama ',
          hub: { endpoint: 'http://127.0.0.1:8080', token: 'hf_x', answerCacheDir: '/tmp/answers' },
          estimate: { batchSize: 16, contextLength: 512 },
        },
      },
      DEFAULT_SETTINGS,
    );
    assert.deepEqual(settings, {
      ...DEFAULT_SETTINGS,
      model: './models/llama',
      hubEndpoint: 'http://127.0.0.1:8080',
      hubToken: { token: 'hf_x', endpoint: 'https://huggingface.co' },
      hubCacheDir: '/tmp/answers',
      batchSize: 16,
      contextLength: 512,
    });
  });

  it('keeps the current values for missing or invalid ones', () => {
    const current = { ...DEFAULT_SETTINGS, model: 'org/model', hubEndpoint: 'http://hub', batchSize: 4, contextLength: 1024 };
    assert.deepEqual(readSettings({ estimate: { batchSize: 0, contextLength: 1.5 }, hub: { endpoint: 42 } }, current), current);
    assert.deepEqual(readSettings({ model: '' }, current), { ...current, model: '' });
  });

  it('takes a token only with the endpoint it is for: a message without a token never moves the current one', () => {
    const granted = readSettings({ hub: { token: 'hf_x', tokenEndpoint: 'http://127.0.0.1:8080' } }, DEFAULT_SETTINGS);
    assert.deepEqual(granted.hubToken, { token: 'hf_x', endpoint: 'http://127.0.0.1:8080' });
    const moved = readSettings(
      { quantstudio: { hub: { endpoint: 'https://evil.example', tokenEndpoint: 'https://evil.example' } } },
      granted,
    );
    assert.deepEqual(moved.hubToken, { token: 'hf_x', endpoint: 'http://127.0.0.1:8080' });
    assert.equal(readSettings({ hub: { token: '' } }, granted).hubToken, undefined);
  });
});
