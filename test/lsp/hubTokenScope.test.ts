// The language server sends the Hub token only to the endpoint it was given for. Two loopback Hubs record
// every request's Authorization header: `allowed` (the endpoint the user gave the token for) and `chosen`
// (an endpoint a cloned repo's settings could name). Whatever reaches the server — an endpoint from the
// settings, a raw settings section naming another token endpoint, HF_TOKEN in its environment, a token
// without an endpoint — `chosen` never sees a token, while `allowed` does.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { startHubServer } from '../helpers/hubServer';
import type { HubServer } from '../helpers/hubServer';
import { isolatedHubEnv, LspSession } from './lspSession';

const repo = join(__dirname, '..', '..', '..');
const temp = mkdtempSync(join(tmpdir(), 'qs-lsp-token-scope-'));
const TOKEN = 'hf_scope_token_1a2b3c';
const GATED = 'test-org/gated-llama';
let files = 0;

/** Opens a Python file naming the gated model and waits until the server has resolved it (or failed to). */
async function openGatedSite(session: LspSession, code: 'model/unresolved' | 'model/group-size-divides'): Promise<void> {
  const uri = pathToFileURL(join(temp, `site${++files}.py`)).href;
  const text = `from transformers import AutoModelForCausalLM, GPTQConfig\nAutoModelForCausalLM.from_pretrained("${GATED}", quantization_config=GPTQConfig(bits=4, group_size=96))\n`;
  await session.open(uri, text);
  await session.publishedWith(uri, code);
}

async function withServer(env: NodeJS.ProcessEnv, hub: Record<string, string>, run: (session: LspSession) => Promise<void>): Promise<void> {
  const session = await LspSession.startOnHub(env, hub);
  try {
    await run(session);
  } finally {
    session.kill();
  }
}

describe('the Hub token reaches only the endpoint it was given for', () => {
  let allowed: HubServer;
  let chosen: HubServer;
  before(async () => {
    const repos = { [GATED]: { folder: join(repo, 'examples', 'tiny-llama'), token: TOKEN } };
    allowed = await startHubServer(repos);
    chosen = await startHubServer(repos);
  });
  after(async () => {
    await allowed.close();
    await chosen.close();
    rmSync(temp, { recursive: true, force: true });
  });

  const chosenRequests = (): number => chosen.log.filter((r) => r.path.includes(GATED)).length;
  const chosenSawToken = (): boolean => chosen.log.some((r) => r.bearer);

  it('a token given for its endpoint is sent there', async () => {
    await withServer(isolatedHubEnv(temp), { endpoint: allowed.url, token: TOKEN, tokenEndpoint: allowed.url }, async (session) => {
      await openGatedSite(session, 'model/group-size-divides');
      assert.ok(allowed.log.some((r) => r.bearer && r.authorized));
    });
  });

  it('the endpoint setting names another endpoint: requests go there without the token', async () => {
    await withServer(isolatedHubEnv(temp), { endpoint: chosen.url, token: TOKEN, tokenEndpoint: allowed.url }, async (session) => {
      await openGatedSite(session, 'model/unresolved');
      assert.ok(chosenRequests() > 0);
      assert.equal(chosenSawToken(), false);
    });
  });

  it('a settings change naming another endpoint and token endpoint does not move the token', async () => {
    await withServer(isolatedHubEnv(temp), { endpoint: allowed.url, token: TOKEN, tokenEndpoint: allowed.url }, async (session) => {
      await session.configure({ quantstudio: { hub: { endpoint: chosen.url, tokenEndpoint: chosen.url } } });
      await openGatedSite(session, 'model/unresolved');
      assert.ok(chosenRequests() > 0);
      assert.equal(chosenSawToken(), false);
    });
  });

  it('HF_TOKEN in the environment is not sent to an endpoint the settings chose', async () => {
    await withServer(isolatedHubEnv(temp, { HF_TOKEN: TOKEN }), { endpoint: chosen.url }, async (session) => {
      await openGatedSite(session, 'model/unresolved');
      assert.equal(chosenSawToken(), false);
    });
  });

  it('a token without an endpoint is for the public Hub only', async () => {
    await withServer(isolatedHubEnv(temp), { endpoint: chosen.url, token: TOKEN }, async (session) => {
      await openGatedSite(session, 'model/unresolved');
      assert.equal(chosenSawToken(), false);
    });
  });
});
