// Downloads against a loopback Hub that misbehaves: a body that stalls is given up after the idle timeout, a
// body longer than the size the repo lists is cut off at that size (announced or not), and neither leaves a
// partial file. The partial blobs of a killed download are removed by the next one; a running one's are kept.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ensureSnapshot } from '../../../native/model/download';
import type { DownloadProgress } from '../../../native/model/download';
import { ModelErrorException } from '../../../native/model/errors';
import { repoFolderName } from '../../../native/model/hfCache';
import { startHubServer } from '../../helpers/hubServer';
import type { HubServer } from '../../helpers/hubServer';

const repo = join(__dirname, '..', '..', '..', '..');
const tinyLlama = join(repo, 'examples', 'tiny-llama');
const temp = mkdtempSync(join(tmpdir(), 'qs-download-limits-'));
const PLAIN = 'test-org/tiny-llama';
const SHORT = 'test-org/short-listed';
const LISTED = 1_000_000;
let hub: HubServer;
let caches = 0;

before(async () => {
  hub = await startHubServer({
    [PLAIN]: { folder: tinyLlama },
    [SHORT]: { folder: tinyLlama, listedSizes: { 'model.safetensors': LISTED } },
  });
});
after(async () => {
  await hub.close();
  rmSync(temp, { recursive: true, force: true });
});

const freshCache = (): string => join(temp, `cache-${++caches}`);
const blobsOf = (cacheDir: string, repoId: string): string => join(cacheDir, repoFolderName(repoId), 'blobs');
const leftovers = (cacheDir: string, repoId: string): string[] =>
  existsSync(blobsOf(cacheDir, repoId)) ? readdirSync(blobsOf(cacheDir, repoId)).filter((f) => f.endsWith('.incomplete')) : [];

function modelError(code: string, message: RegExp): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof ModelErrorException, String(error));
    assert.equal(error.error.code, code);
    assert.match(error.error.message, message);
    return true;
  };
}

describe('download limits', () => {
  it('a body that sends nothing for the idle timeout is given up; no partial file stays', async () => {
    const cacheDir = freshCache();
    hub.setBodyPause(10_000);
    try {
      const started = Date.now();
      const download = ensureSnapshot({ repoId: PLAIN, revision: 'main' }, { endpoint: hub.url, cacheDir, env: {}, idleTimeoutMs: 500 });
      const outcome = await Promise.race([
        download.then(
          () => 'finished',
          (error: unknown) => error,
        ),
        new Promise((r) => setTimeout(() => r('still waiting after 10 s'), 10_000)),
      ]);
      modelError('offline', /^model\.safetensors: http:\/\/127\.0\.0\.1:\d+ sent nothing for 1 s$/)(outcome);
      assert.ok(Date.now() - started < 5000, `gave up after ${Date.now() - started} ms`);
      assert.deepEqual(leftovers(cacheDir, PLAIN), []);
    } finally {
      hub.setBodyPause(0);
    }
  });

  for (const chunked of [false, true]) {
    it(`a body longer than the listed size is cut off at that size (${chunked ? 'chunked' : 'Content-Length'})`, async () => {
      const cacheDir = freshCache();
      const progress: DownloadProgress[] = [];
      hub.setChunked(chunked);
      try {
        await assert.rejects(
          ensureSnapshot(
            { repoId: SHORT, revision: 'main' },
            { endpoint: hub.url, cacheDir, env: {}, onProgress: (p) => progress.push(p) },
          ),
          modelError('invalid', /^model\.safetensors: .* sent more than the 1000000 bytes the repo lists$/),
        );
      } finally {
        hub.setChunked(false);
      }
      const before = progress.filter((p) => p.file !== 'model.safetensors').reduce((max, p) => Math.max(max, p.bytesDone), 0);
      const weights = progress.filter((p) => p.file === 'model.safetensors').map((p) => p.bytesDone - before);
      assert.ok(
        weights.every((n) => n <= LISTED),
        `wrote up to ${Math.max(...weights)} bytes`,
      );
      assert.deepEqual(leftovers(cacheDir, SHORT), []);
    });
  }

  it("the next download removes the partial blobs of a killed one and keeps a running one's", async () => {
    const cacheDir = freshCache();
    const blobs = blobsOf(cacheDir, PLAIN);
    mkdirSync(blobs, { recursive: true });
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    writeFileSync(join(blobs, `0123abcd.${dead}.incomplete`), 'partial');
    writeFileSync(join(blobs, `4567cdef.${process.pid}.incomplete`), 'in progress');
    await ensureSnapshot({ repoId: PLAIN, revision: 'main' }, { endpoint: hub.url, cacheDir, env: {} });
    assert.deepEqual(leftovers(cacheDir, PLAIN), [`4567cdef.${process.pid}.incomplete`]);
  });
});
