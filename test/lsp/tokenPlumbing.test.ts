// The Hub token and answer-cache folder the extension hands the language server (from SecretStorage and
// its global storage): given in initializationOptions, or later as a configuration change (what "Set
// Hugging Face Token" sends), the token reaches the Hub as `Authorization: Bearer`, resolved answers land
// in the given folder, and neither the cache nor the server's log messages contain the token.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { startHubServer } from '../helpers/hubServer';
import type { HubServer } from '../helpers/hubServer';
import { isolatedHubEnv, LspSession } from './lspSession';
import { rangeOf } from './textRanges';

const repo = join(__dirname, '..', '..', '..');
const temp = mkdtempSync(join(tmpdir(), 'qs-lsp-token-'));
const TOKEN = 'hf_test_token_9f8e7d';
const GATED = 'test-org/gated-llama';

function pythonSite(name: string): { uri: string; text: string } {
  return {
    uri: pathToFileURL(join(temp, name)).href,
    text: `from transformers import AutoModelForCausalLM, GPTQConfig\nAutoModelForCausalLM.from_pretrained("${GATED}", quantization_config=GPTQConfig(bits=4, group_size=96))\n`,
  };
}

/** Starts a server and records every log message it sends the client. */
async function start(hub: HubServer, hubOptions: Record<string, string>): Promise<{ session: LspSession; logs: string[] }> {
  const session = await LspSession.startOnHub(isolatedHubEnv(temp), { endpoint: hub.url, ...hubOptions });
  const logs: string[] = [];
  session.connection.onNotification('window/logMessage', (p: { message: string }) => void logs.push(p.message));
  return { session, logs };
}

describe('Hub token and answer cache handed to the language server', () => {
  let hub: HubServer;
  before(async () => {
    hub = await startHubServer({ [GATED]: { folder: join(repo, 'examples', 'tiny-llama'), token: TOKEN } });
  });
  after(async () => {
    await hub.close();
    rmSync(temp, { recursive: true, force: true });
  });

  it('initializationOptions: the gated model resolves with the bearer token, its answer is cached in the given folder', async () => {
    const cacheDir = join(temp, 'answers-init');
    const { session, logs } = await start(hub, { token: TOKEN, tokenEndpoint: hub.url, answerCacheDir: cacheDir });
    try {
      const site = pythonSite('init.py');
      await session.open(site.uri, site.text);
      const diagnostics = await session.publishedWith(site.uri, 'model/group-size-divides');
      assert.deepEqual(
        diagnostics.filter((d) => String(d.code).startsWith('model/')).map((d) => [d.code, d.range]),
        [['model/group-size-divides', rangeOf(site.text, '96')]],
      );
      const requests = hub.log.filter((r) => r.path.includes(GATED));
      assert.ok(requests.length > 0);
      assert.deepEqual(
        requests.filter((r) => !r.authorized || r.status === 401),
        [],
        'every request carried Authorization: Bearer <token>',
      );

      const cached = readdirSync(cacheDir).filter((f) => f.endsWith('.json'));
      assert.equal(cached.length, 1, `cache folder holds ${JSON.stringify(readdirSync(cacheDir))}`);
      const entry = readFileSync(join(cacheDir, cached[0]), 'utf8');
      assert.ok(entry.includes(`"key":"${hub.url}|${GATED}|`), 'the entry is the answer for this endpoint and model');
      assert.ok(!entry.includes(TOKEN), 'the cache never holds the token');
      assert.ok(!logs.some((l) => l.includes(TOKEN)), 'the server never logs the token');
    } finally {
      session.kill();
    }
  });

  it('a token set later (a configuration change, as the Set Token command sends it) turns the 401 into a resolved model', async () => {
    const cacheDir = join(temp, 'answers-later');
    const { session, logs } = await start(hub, { answerCacheDir: cacheDir });
    try {
      const site = pythonSite('later.py');
      await session.open(site.uri, site.text);
      const before = await session.publishedWith(site.uri, 'model/unresolved');
      assert.match(String(before.find((d) => d.code === 'model/unresolved')?.message), /gated|401|token/i);
      assert.ok(
        hub.log.some((r) => r.path.includes(GATED) && r.status === 401),
        'the Hub refused the request without a token',
      );

      const logged = hub.log.length;
      await session.configure({ quantstudio: { hub: { token: TOKEN, tokenEndpoint: hub.url, answerCacheDir: cacheDir } } });
      await session.publishedWith(site.uri, 'model/group-size-divides');
      const after = hub.log.slice(logged).filter((r) => r.path.includes(GATED));
      assert.ok(after.length > 0 && after.every((r) => r.authorized && r.status !== 401), 'with the token every request is authorized');
      assert.equal(readdirSync(cacheDir).filter((f) => f.endsWith('.json')).length, 1);
      assert.ok(!logs.some((l) => l.includes(TOKEN)), 'the server never logs the token');
    } finally {
      session.kill();
    }
  });
});
