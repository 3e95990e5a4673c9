// A Hub repo's file names are data from the internet: a name with a backslash (a path on Windows) or a leading
// dot is never downloaded or linked into a snapshot, and every accepted name stays in the snapshot folder under
// both POSIX and Windows path rules. A shard index naming such a file makes the snapshot incomplete.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix, win32 } from 'node:path';
import { after, describe, it } from 'node:test';
import { ensureSnapshot } from '../../../native/model/download';
import { isJobFile, missingSnapshotFiles } from '../../../native/model/snapshotFiles';
import { startHubServer } from '../../helpers/hubServer';

const repo = join(__dirname, '..', '..', '..', '..');
const tinyLlama = join(repo, 'examples', 'tiny-llama');
const temp = mkdtempSync(join(tmpdir(), 'qs-hub-names-'));
after(() => rmSync(temp, { recursive: true, force: true }));

const UNSAFE = [
  'x\\..\\..\\evil.safetensors',
  '..\\evil.safetensors',
  '.hidden.safetensors',
  '.safetensors',
  '..safetensors',
  'C:evil.safetensors',
  'a/b.safetensors',
  'evil .safetensors',
  'nul.safetensors',
  'model.safetensors\u0000.json',
];
const SAFE = [
  'model.safetensors',
  'model-00001-of-00002.safetensors',
  'model.safetensors.index.json',
  'config.json',
  'tokenizer.json',
  'tokenizer_config.json',
];

describe('Hub file names', () => {
  it('names with a backslash, a leading dot, a drive, a space or a device name are not job files', () => {
    for (const name of UNSAFE) assert.equal(isJobFile(name), false, JSON.stringify(name));
    for (const name of SAFE) assert.equal(isJobFile(name), true, name);
  });

  it('every accepted name stays in the snapshot folder under POSIX and Windows path rules', () => {
    for (const name of [...SAFE, ...UNSAFE].filter(isJobFile)) {
      assert.equal(win32.dirname(win32.join('C:\\cache\\snapshots\\abc', name)), 'C:\\cache\\snapshots\\abc', name);
      assert.equal(posix.dirname(posix.join('/cache/snapshots/abc', name)), '/cache/snapshots/abc', name);
    }
  });

  it('a shard index naming a file outside the snapshot leaves it incomplete', () => {
    const folder = join(temp, 'index-snapshot');
    mkdirSync(folder);
    for (const f of ['config.json', 'tokenizer.json']) copyFileSync(join(tinyLlama, f), join(folder, f));
    writeFileSync(join(folder, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { 'a.weight': '..\\..\\evil.safetensors' } }));
    assert.deepEqual(missingSnapshotFiles(folder), [
      'model.safetensors.index.json names a shard outside the snapshot folder ("..\\\\..\\\\evil.safetensors")',
    ]);
  });

  it(
    'a download skips such names: never requested, never linked',
    { skip: process.platform === 'win32' && 'these names cannot be files here' },
    async () => {
      const served = join(temp, 'served');
      mkdirSync(served);
      for (const f of readdirSync(tinyLlama)) copyFileSync(join(tinyLlama, f), join(served, f));
      for (const name of ['x\\..\\..\\evil.safetensors', '.hidden.safetensors']) writeFileSync(join(served, name), 'not a model');
      const hub = await startHubServer({ 'test-org/names': { folder: served } });
      try {
        const cacheDir = join(temp, 'hf-cache');
        const snapshot = await ensureSnapshot({ repoId: 'test-org/names', revision: 'main' }, { endpoint: hub.url, cacheDir, env: {} });
        const requested = hub.log.map((r) => decodeURIComponent(r.path));
        assert.deepEqual(
          requested.filter((p) => p.includes('evil') || p.includes('.hidden')),
          [],
        );
        assert.deepEqual(
          readdirSync(snapshot.folder).filter((f) => f.includes('evil') || f.startsWith('.')),
          [],
        );
        assert.ok(snapshot.downloaded.includes('model.safetensors'));
      } finally {
        await hub.close();
      }
    },
  );
});
