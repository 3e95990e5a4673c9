// Model resolution through the Hub client against a loopback Hub: model info, config.json, safetensors
// headers by range requests only; gated, missing and slow repos; the on-disk answer cache when offline.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { listFiles } from '@huggingface/hub';
import { AnswerCache, readLocalModel, resolveModel } from '../../../native/model';
import type { ResolveOptions, TensorMeta } from '../../../native/model';
import { startHubServer } from '../../helpers/hubServer';
import type { HubServer, LoggedRequest } from '../../helpers/hubServer';

const repo = join(__dirname, '..', '..', '..', '..');
const tinyLlama = join(repo, 'examples', 'tiny-llama');
const sharded = join(repo, 'test', 'fixtures', 'hub', 'sharded-qwen2');
const TOKEN = 'hf_loopbacktesttoken';
const temp = mkdtempSync(join(tmpdir(), 'qs-hub-'));
const emptyHfCache = join(temp, 'hf-cache-empty');
let hub: HubServer;

before(async () => {
  hub = await startHubServer({
    'test-org/tiny-llama': { folder: tinyLlama },
    'test-org/sharded-qwen2': { folder: sharded },
    'test-org/gated-llama': { folder: tinyLlama, token: TOKEN },
  });
});
after(async () => {
  await hub.close();
  rmSync(temp, { recursive: true, force: true });
});

/** Fresh options: no shared in-memory answers between tests, an empty HF cache, no ambient token. */
function options(extra: ResolveOptions = {}): ResolveOptions {
  return { endpoint: hub.url, env: {}, hubCacheDir: emptyHfCache, cache: new AnswerCache(extra.cacheDir), ...extra };
}

function headerBytes(path: string): number {
  return 8 + Number(readFileSync(path).readBigUInt64LE(0));
}

const strip = (ts: readonly TensorMeta[]) =>
  ts.map(({ name, dtype, shape, bytes, file }) => ({ name, dtype, shape, bytes, file })).sort((a, b) => a.name.localeCompare(b.name));

/** Every request for a weight file asked for a byte range inside the header. */
function assertHeaderRangesOnly(log: readonly LoggedRequest[], folder: string): void {
  const weightRequests = log.filter((r) => r.path.endsWith('.safetensors'));
  assert.ok(weightRequests.length > 0, 'the weights were looked at');
  for (const r of weightRequests) {
    if (r.method === 'HEAD') continue;
    assert.ok(r.range, `${r.method} ${r.path} without a Range header`);
    const [, , end] = /^bytes=(\d+)-(\d+)$/.exec(r.range) ?? [];
    const file = join(folder, r.path.split('/').pop()!);
    assert.ok(Number(end) < headerBytes(file), `${r.path} range ${r.range} goes past the header (${headerBytes(file)} bytes)`);
    assert.equal(r.status, 206);
  }
}

describe('resolveModel over the Hub', () => {
  it('resolves a single-file model: commit, config.json and the same tensors as the local read', async () => {
    hub.log.length = 0;
    const result = await resolveModel('test-org/tiny-llama', options());
    assert.ok(result.ok, JSON.stringify(!result.ok && result.error));
    assert.equal(result.model.source, 'hub');
    assert.equal(result.model.revision, hub.commitOf('test-org/tiny-llama'));
    assert.deepEqual(result.model.config, JSON.parse(readFileSync(join(tinyLlama, 'config.json'), 'utf8')));
    assert.deepEqual(strip(result.model.tensors), strip((await readLocalModel(tinyLlama)).tensors));
    assert.ok(hub.log.some((r) => r.path === '/api/models/test-org/tiny-llama/revision/main'));
    assertHeaderRangesOnly(hub.log, tinyLlama);
    const served = hub.log.filter((r) => r.path.endsWith('.safetensors')).reduce((a, r) => a + r.bytes, 0);
    assert.ok(served <= headerBytes(join(tinyLlama, 'model.safetensors')) + 1, `served ${served} bytes of weights`);
  });

  it("resolves a sharded model from its index, fetching only each shard's header", async () => {
    hub.log.length = 0;
    const started = Date.now();
    const result = await resolveModel('test-org/sharded-qwen2', options());
    assert.ok(result.ok, JSON.stringify(!result.ok && result.error));
    assert.ok(Date.now() - started < 1000, 'answers in under a second on loopback');
    assert.deepEqual(strip(result.model.tensors), strip((await readLocalModel(sharded)).tensors));
    assertHeaderRangesOnly(hub.log, sharded);
    for (const shard of readdirSync(sharded).filter((f) => f.endsWith('.safetensors'))) {
      assert.ok(
        hub.log.some((r) => r.path.endsWith(`/${shard}`)),
        `${shard} was read`,
      );
      assert.ok(statSync(join(sharded, shard)).size > headerBytes(join(sharded, shard)));
    }
  });

  it('a gated repo without a token is a needs-token error; with HF_TOKEN it resolves; the token is never cached', async () => {
    const cacheDir = join(temp, 'answers-gated');
    const denied = await resolveModel('test-org/gated-llama', options({ cacheDir }));
    assert.ok(!denied.ok);
    assert.equal(denied.error.code, 'needs-token');
    assert.match(denied.error.hint, /needs a token \(set HF_TOKEN or the quantstudio\.hub token\)/);
    const allowed = await resolveModel('test-org/gated-llama', options({ cacheDir, env: { HF_TOKEN: TOKEN, HF_ENDPOINT: hub.url } }));
    assert.ok(allowed.ok);
    for (const file of readdirSync(cacheDir))
      assert.ok(!readFileSync(join(cacheDir, file), 'utf8').includes(TOKEN), `${file} holds the token`);
    assert.ok(hub.log.filter((r) => r.path.includes('gated-llama') && r.status !== 401).every((r) => r.authorized));
  });

  it("the loopback Hub lists a repo's files the way the Hub client reads them", async () => {
    const paths: string[] = [];
    for await (const entry of listFiles({ repo: { type: 'model', name: 'test-org/sharded-qwen2' }, hubUrl: hub.url }))
      paths.push(entry.path);
    assert.deepEqual(paths.sort(), readdirSync(sharded).sort());
  });

  it('an unknown repo is not-found', async () => {
    const result = await resolveModel('test-org/no-such-model', options());
    assert.ok(!result.ok);
    assert.equal(result.error.code, 'not-found');
    assert.equal(result.error.where, 'test-org/no-such-model');
  });

  it('a slow Hub is offline after the timeout; the last cached answer comes back with a warning', async () => {
    const cacheDir = join(temp, 'answers-slow');
    const fresh = await resolveModel('test-org/tiny-llama', options({ cacheDir }));
    assert.ok(fresh.ok);
    hub.setDelay(400);
    try {
      const cold = await resolveModel('test-org/sharded-qwen2', options({ cacheDir, timeoutMs: 100 }));
      assert.ok(!cold.ok);
      assert.equal(cold.error.code, 'offline');
      // A new process (new in-memory cache) with the same cache folder.
      const stale = await resolveModel('test-org/tiny-llama', options({ cacheDir, timeoutMs: 100 }));
      assert.ok(stale.ok);
      assert.equal(stale.stale?.code, 'offline');
      assert.equal(stale.model.revision, hub.commitOf('test-org/tiny-llama'));
      assert.deepEqual(stale.model.tensors, fresh.model.tensors);
    } finally {
      hub.setDelay(0);
    }
  });

  it('an unreachable endpoint is offline', async () => {
    const result = await resolveModel('test-org/tiny-llama', { ...options(), endpoint: 'http://127.0.0.1:9' });
    assert.ok(!result.ok);
    assert.equal(result.error.code, 'offline');
  });
});
