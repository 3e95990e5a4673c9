// Where the Hub token may go. A workspace cannot choose the Hub endpoint (machine-scope setting, read from the
// user's settings only, and ignored in Restricted Mode); the token goes only to the endpoint it was given for,
// never over plain http to another machine, never to an endpoint other than the public Hub without the user's
// yes, never from an untrusted workspace; a job worker never inherits a token meant for another endpoint.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { decideToken, hubEndpoint, withAllowed } from '../../../client/src/extension/hubGrant';
import { readSettings } from '../../../client/src/extension/settings';
import { workerEnv } from '../../../client/src/jobs/runner';
import { environmentGrant, tokenFor } from '../../../native/model';

const repo = join(__dirname, '..', '..', '..', '..');
const HUB = 'https://huggingface.co';
const LOOPBACK = 'http://127.0.0.1:8080';

describe('tokenFor: a token reaches only the endpoint it was given for', () => {
  it('the same endpoint in any spelling gets it; another endpoint does not', () => {
    assert.equal(tokenFor(HUB, [{ token: 't', endpoint: HUB }]), 't');
    assert.equal(tokenFor('https://HuggingFace.co/', [{ token: 't', endpoint: HUB }]), 't');
    assert.equal(tokenFor('https://evil.example', [{ token: 't', endpoint: HUB }]), undefined);
    assert.equal(tokenFor('https://huggingface.co.evil.example', [{ token: 't', endpoint: HUB }]), undefined);
    assert.equal(tokenFor('https://evil.example', [undefined, { token: 't', endpoint: 'https://mirror.example' }]), undefined);
  });

  it('plain http carries a token only to a loopback address the grant names', () => {
    assert.equal(tokenFor('http://mirror.example', [{ token: 't', endpoint: 'http://mirror.example' }]), undefined);
    assert.equal(tokenFor(LOOPBACK, [{ token: 't', endpoint: LOOPBACK }]), 't');
    assert.equal(tokenFor(LOOPBACK, [{ token: 't', endpoint: HUB }]), undefined);
    assert.equal(tokenFor('https://user:pw@huggingface.co', [{ token: 't', endpoint: HUB }]), undefined);
  });

  it('HF_TOKEN is for HF_ENDPOINT, else the public Hub; never for an endpoint a setting picked', () => {
    assert.deepEqual(environmentGrant({ HF_TOKEN: ' t ' }), { token: 't', endpoint: HUB });
    assert.deepEqual(environmentGrant({ HF_TOKEN: 't', HF_ENDPOINT: LOOPBACK }), { token: 't', endpoint: LOOPBACK });
    assert.equal(environmentGrant({}), undefined);
    assert.equal(tokenFor('https://evil.example', [undefined, environmentGrant({ HF_TOKEN: 't' })]), undefined);
  });
});

describe('decideToken: the editor sends its token only where the user allowed it', () => {
  const base = { token: 'hf_x', endpoint: HUB, trusted: true, allowed: [] as unknown[] };

  it('the public Hub from a trusted workspace: granted for that endpoint', () => {
    assert.deepEqual(decideToken(base), { kind: 'grant', grant: { token: 'hf_x', endpoint: HUB } });
  });

  it('an untrusted workspace: no token, wherever the requests go', () => {
    assert.deepEqual(decideToken({ ...base, trusted: false }), { kind: 'none' });
    assert.equal(decideToken({ ...base, trusted: false, endpoint: LOOPBACK, allowed: [LOOPBACK] }).kind, 'none');
  });

  it('another endpoint: ask, until the user allowed it (loopback included); plain http to another machine: never', () => {
    assert.deepEqual(decideToken({ ...base, endpoint: 'https://mirror.example' }), { kind: 'ask', endpoint: 'https://mirror.example' });
    assert.deepEqual(decideToken({ ...base, endpoint: LOOPBACK }), { kind: 'ask', endpoint: LOOPBACK });
    assert.deepEqual(decideToken({ ...base, endpoint: `${LOOPBACK}/`, allowed: [LOOPBACK] }), {
      kind: 'grant',
      grant: { token: 'hf_x', endpoint: `${LOOPBACK}/` },
    });
    assert.equal(decideToken({ ...base, endpoint: 'http://mirror.example', allowed: ['http://mirror.example'] }).kind, 'none');
    assert.equal(decideToken({ ...base, endpoint: 'https://other.example', allowed: [LOOPBACK, 42] }).kind, 'ask');
    assert.deepEqual(decideToken({ ...base, token: '' }), { kind: 'none' });
  });

  it('an allowed endpoint is remembered once, in one spelling', () => {
    assert.deepEqual(withAllowed([], `${LOOPBACK}/`), [LOOPBACK]);
    assert.deepEqual(withAllowed([LOOPBACK, 7], 'http://127.0.0.1:8080/'), [LOOPBACK]);
  });

  it('HF_ENDPOINT wins over the user setting, as the server reads it', () => {
    assert.equal(hubEndpoint({ HF_ENDPOINT: LOOPBACK }, 'https://mirror.example'), LOOPBACK);
    assert.equal(hubEndpoint({}, ''), HUB);
  });
});

describe('the endpoint setting', () => {
  it('is read from the user settings only: a workspace value is ignored', () => {
    const values: Record<string, { globalValue?: unknown; workspaceValue?: unknown }> = {
      'hub.endpoint': { workspaceValue: 'https://evil.example' },
    };
    const config = {
      get: <T>(key: string): T | undefined => (values[key]?.workspaceValue ?? values[key]?.globalValue) as T | undefined,
      inspect: <T>(key: string) => ({ key, ...(values[key] ?? {}) }) as { key: string; globalValue?: T },
    };
    assert.equal(readSettings(config).hub.endpoint, HUB);
    values['hub.endpoint'] = { globalValue: LOOPBACK, workspaceValue: 'https://evil.example' };
    assert.equal(readSettings(config).hub.endpoint, LOOPBACK);
  });

  it('the python interpreter is read from the user settings only: a cloned repository cannot choose what runs', () => {
    const values: Record<string, { globalValue?: unknown; workspaceValue?: unknown }> = {
      python: { workspaceValue: './evil/python' },
    };
    const config = {
      get: <T>(key: string): T | undefined => (values[key]?.workspaceValue ?? values[key]?.globalValue) as T | undefined,
      inspect: <T>(key: string) => ({ key, ...(values[key] ?? {}) }) as { key: string; globalValue?: T },
    };
    assert.equal(readSettings(config).python, '');
    values.python = { globalValue: '/opt/venv/bin/python', workspaceValue: './evil/python' };
    assert.equal(readSettings(config).python, '/opt/venv/bin/python');
  });

  it('package.json: machine scope, and the model, endpoint, allowed endpoints, interpreter and adapter are restricted in untrusted workspaces', () => {
    const manifest = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));
    const properties = manifest.contributes.configuration.properties;
    assert.equal(properties['quantstudio.hub.endpoint'].scope, 'machine');
    assert.equal(properties['quantstudio.hub.tokenEndpoints'].scope, 'application');
    assert.equal(properties['quantstudio.python'].scope, 'machine');
    const restricted: string[] = manifest.capabilities.untrustedWorkspaces.restrictedConfigurations;
    for (const key of [
      'quantstudio.model',
      'quantstudio.hub.endpoint',
      'quantstudio.hub.tokenEndpoints',
      'quantstudio.python',
      'quantstudio.engine.adapter',
    ])
      assert.ok(restricted.includes(key), `${key} is restricted`);
  });
});

describe('workerEnv: a job worker gets a token only with the endpoint it is for', () => {
  it('a named endpoint without a token drops the inherited HF_TOKEN', () => {
    const env = workerEnv(undefined, { HF_TOKEN: 'hf_env', PATH: '/bin' }, { endpoint: 'https://mirror.example' });
    assert.equal(env.HF_ENDPOINT, 'https://mirror.example');
    assert.equal(env.HF_TOKEN, undefined);
    assert.equal(env.PATH, '/bin');
  });

  it('a token comes with its endpoint; no Hub access named keeps the environment as it is', () => {
    assert.deepEqual(workerEnv(undefined, {}, { endpoint: LOOPBACK, token: 'hf_x' }), { HF_ENDPOINT: LOOPBACK, HF_TOKEN: 'hf_x' });
    const base = { HF_TOKEN: 'hf_env' };
    assert.equal(workerEnv(undefined, base, {}), base);
  });
});
