// The Hub token in a real VS Code, against two loopback Hubs that record every request's Authorization
// header: `user` (the endpoint in the user's settings) and `repo` (the one a cloned repo's
// .vscode/settings.json names, allowing itself the token too). The token is HF_TOKEN in the editor's
// environment. In Restricted Mode the repo's endpoint is ignored and no request carries the token; trusted,
// the user's endpoint gets the token only once the user says yes to the prompt, which is remembered in the
// user's settings; the repo's endpoint never hears from the extension.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { waitForNotification } from './codeServer.mjs';
import { openFile } from './editor.mjs';
import { e2eSkipReason, REPO_ROOT } from './prerequisites.mjs';
import { openSession } from './session.mjs';

const HELPER = path.join(REPO_ROOT, 'out', 'test', 'helpers', 'hubServer.js');
const skip = e2eSkipReason() || (!fs.existsSync(HELPER) && `e2e skipped: ${HELPER} is missing: run \`npm run build\``);
const TOKEN = 'hf_e2e_token_5d4c3b';
const GATED = 'test-org/gated-llama';
const SITE = `from transformers import AutoModelForCausalLM, GPTQConfig\nAutoModelForCausalLM.from_pretrained("${GATED}", quantization_config=GPTQConfig(bits=4, group_size=96))\n`;
let userHub;
let repoHub;
let hfCache;

before(async () => {
  if (skip) return;
  const { startHubServer } = createRequire(import.meta.url)(HELPER);
  const repos = { [GATED]: { folder: path.join(REPO_ROOT, 'examples', 'tiny-llama'), token: TOKEN } };
  userHub = await startHubServer(repos);
  repoHub = await startHubServer(repos);
  hfCache = fs.mkdtempSync(path.join(os.tmpdir(), 'qs-e2e-hf-cache-'));
});
after(async () => {
  await userHub?.close();
  await repoHub?.close();
  if (hfCache) fs.rmSync(hfCache, { recursive: true, force: true });
});

/** A session on a workspace whose settings name the repo's Hub, with a Python file using the gated model. */
function open(name, { workspaceTrust, settings = {} }) {
  return openSession(
    name,
    { extensionDir: REPO_ROOT },
    {
      workspaceTrust,
      // a machine-scope setting: in a remote window (code-server) it is read from the remote (Machine) settings
      machineSettings: { 'quantstudio.hub.endpoint': userHub.url },
      settings,
      env: { HF_TOKEN: TOKEN, HF_ENDPOINT: '', HF_HUB_OFFLINE: '', HF_HUB_CACHE: hfCache },
      prepare: (workspace) => {
        fs.mkdirSync(path.join(workspace, '.vscode'), { recursive: true });
        fs.writeFileSync(
          path.join(workspace, '.vscode', 'settings.json'),
          JSON.stringify({
            'quantstudio.hub.endpoint': repoHub.url,
            'quantstudio.hub.tokenEndpoints': [repoHub.url],
          }),
        );
        fs.writeFileSync(path.join(workspace, 'scripts', 'gated.py'), SITE);
      },
    },
  );
}

async function until(what, probe, timeoutMs = 30_000) {
  for (const deadline = Date.now() + timeoutMs; !probe(); await new Promise((r) => setTimeout(r, 200))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
  }
}

const gatedRequests = (hub) => hub.log.filter((r) => r.path.includes(GATED));

test("Restricted Mode: the repo's endpoint is ignored and no Hub request carries the token", { skip }, async () => {
  const s = await open('hub-token-restricted', { workspaceTrust: true, settings: { 'quantstudio.hub.tokenEndpoints': [userHub.url] } });
  try {
    await s.step({ name: 'restricted' }, async () => {
      userHub.log.length = 0;
      await openFile(s.page, 'scripts/gated.py');
      await until("the language server to ask the user's Hub", () => gatedRequests(userHub).length > 0);
      await new Promise((r) => setTimeout(r, 2000)); // any later request would show up meanwhile
      await s.shot('01-restricted');
      assert.deepEqual(repoHub.log, [], "the repo's endpoint got no request");
      assert.deepEqual(
        userHub.log.filter((r) => r.bearer),
        [],
        'no request carried the token',
      );
    });
  } finally {
    await s.close();
  }
});

test("trusted: the token goes to the user's endpoint only after the user allows it, and the yes is remembered", { skip }, async () => {
  const s = await open('hub-token-trusted', { workspaceTrust: false });
  try {
    await s.step({ name: 'trusted' }, async () => {
      userHub.log.length = 0;
      await openFile(s.page, 'scripts/gated.py');
      const toast = await waitForNotification(s.page, 'is not huggingface.co');
      await until("the language server to ask the user's Hub", () => gatedRequests(userHub).length > 0);
      assert.deepEqual(
        userHub.log.filter((r) => r.bearer),
        [],
        'no token before the user said yes',
      );
      await s.shot('01-prompt');
      await toast.getByRole('button', { name: 'Send Token to This Endpoint' }).click();
      await until("an authorized request to the user's Hub", () =>
        userHub.log.some((r) => r.bearer && r.authorized && r.path.includes(GATED)),
      );
      const settings = JSON.parse(fs.readFileSync(path.join(s.cs.userDataDir, 'User', 'settings.json'), 'utf8'));
      assert.deepEqual(settings['quantstudio.hub.tokenEndpoints'], [userHub.url]);
      assert.deepEqual(repoHub.log, [], "the repo's endpoint got no request");
    });
  } finally {
    await s.close();
  }
});
