// Jobs on a Hub id: the worker downloads the files a job needs from a loopback Hub into the Hugging Face
// cache in huggingface_hub's layout, runs on that snapshot, and reuses it next time; gated, missing and
// unreachable models and a cancelled download end in clear errors and leave nothing that looks complete.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { JobCancelledError, JobError } from '../../client/src/jobs/errors';
import { startJob } from '../../client/src/jobs/runner';
import type { Job, JobProgress, RunResult } from '../../client/src/jobs/runner';
import { repoRoot } from '../helpers/cli';
import { startHubServer } from '../helpers/hubServer';
import type { HubServer } from '../helpers/hubServer';

const demo = join(repoRoot, 'examples', 'tiny-llama');
const PUBLIC = 'test/tiny-llama';
const GATED = 'test/gated-llama';
const TOKEN = 'hf_test_token_for_the_loopback_hub';
/** The fixture's files a job needs (its README.md is not one of them). */
const JOB_FILES = ['config.json', 'generation_config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'];

function generateJob(model: string): Job {
  return { kind: 'generate', model, options: { prompt: 'ROMEO:', maxTokens: 8 } };
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => assert.fail('the job should have failed'),
    (e: unknown) => e,
  );
}

function resolveRequests(hub: HubServer): string[] {
  return hub.log.filter((r) => r.path.includes('/resolve/')).map((r) => r.path);
}

/** The blob name each file has on the Hub: its LFS sha256, else its git oid, as the tree lists them. */
async function blobNames(hub: HubServer, repoId: string, token?: string): Promise<Map<string, string>> {
  const res = await fetch(`${hub.url}/api/models/${repoId}/tree/main`, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
  const tree = (await res.json()) as Array<{ path: string; oid: string; lfs?: { oid: string } }>;
  return new Map(tree.map((e) => [e.path, e.lfs?.oid ?? e.oid]));
}

describe('jobs on a Hub id', () => {
  let hub: HubServer;
  const scratch = mkdtempSync(join(tmpdir(), 'qs-hub-job-'));
  const savedEnv = { HF_HUB_CACHE: process.env.HF_HUB_CACHE, HF_TOKEN: process.env.HF_TOKEN, HF_ENDPOINT: process.env.HF_ENDPOINT };
  let cacheCount = 0;
  /** A fresh, empty HF cache that the next worker uses. */
  const freshCache = (): string => {
    const dir = join(scratch, `cache-${++cacheCount}`);
    process.env.HF_HUB_CACHE = dir;
    return dir;
  };

  before(async () => {
    delete process.env.HF_TOKEN;
    delete process.env.HF_ENDPOINT;
    hub = await startHubServer({ [PUBLIC]: { folder: demo }, [GATED]: { folder: demo, token: TOKEN } });
  });
  after(async () => {
    await hub.close();
    for (const [name, value] of Object.entries(savedEnv)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    rmSync(scratch, { recursive: true, force: true });
  });

  it('downloads into the HF cache layout, runs like the local folder, and reuses the snapshot', async () => {
    const cache = freshCache();
    const local = await startJob(generateJob(demo));
    const progress: JobProgress[] = [];
    const run = await startJob(generateJob(PUBLIC), { hub: { endpoint: hub.url }, onProgress: (p) => progress.push(p) });

    const commit = hub.commitOf(PUBLIC);
    const repoDir = join(cache, 'models--test--tiny-llama');
    const snapshot = join(repoDir, 'snapshots', commit);
    const blobs = await blobNames(hub, PUBLIC);
    assert.deepEqual(readdirSync(repoDir).sort(), ['blobs', 'refs', 'snapshots']);
    assert.equal(readFileSync(join(repoDir, 'refs', 'main'), 'utf8'), commit);
    assert.deepEqual(readdirSync(join(repoDir, 'snapshots')), [commit]);
    assert.deepEqual(readdirSync(snapshot).sort(), JOB_FILES);
    assert.deepEqual(readdirSync(join(repoDir, 'blobs')).sort(), JOB_FILES.map((f) => blobs.get(f)).sort());
    for (const file of JOB_FILES) {
      assert.equal(readlinkSync(join(snapshot, file)), join('..', '..', 'blobs', blobs.get(file)!), `${file} links to its blob`);
      assert.deepEqual(readFileSync(join(snapshot, file)), readFileSync(join(demo, file)), `${file} has the Hub's bytes`);
    }

    assert.equal(run.text, local.text);
    assert.equal(run.model.ref, PUBLIC);
    assert.equal(run.model.path, snapshot);
    const downloads = progress.filter((p) => p.phase === 'download');
    const total = JOB_FILES.reduce((sum, f) => sum + statSync(join(demo, f)).size, 0);
    assert.ok(downloads.length >= JOB_FILES.length, `a download progress message per file at least (${downloads.length})`);
    assert.ok(downloads.every((p) => p.total === total && p.current <= total));
    assert.deepEqual(downloads.at(-1), { phase: 'download', current: total, total, message: 'tokenizer_config.json' });
    assert.deepEqual(
      resolveRequests(hub)
        .map((p) => p.split('/').at(-1))
        .sort(),
      JOB_FILES,
      'each needed file fetched once, nothing else',
    );

    // A second run, through the CLI this time, finds the complete snapshot and asks the Hub nothing.
    const before = hub.log.length;
    const cli = await quantstudioAsync(['generate', '--model', PUBLIC, '--prompt', 'ROMEO:', '--max-tokens', '8', '--json'], {
      HF_ENDPOINT: hub.url,
      HF_HUB_CACHE: cache,
    });
    assert.equal(cli.status, 0, cli.stderr);
    const out = JSON.parse(cli.stdout) as { text: string; run: RunResult };
    assert.equal(out.run.model.path, snapshot);
    assert.equal(out.run.text, local.text);
    assert.deepEqual(hub.log.slice(before), [], 'no request at all for a complete cached snapshot');
  });

  it('a gated model: 401 without a token, downloads with one, and the token is in no RunResult', async () => {
    freshCache();
    const refused = await failure(startJob(generateJob(GATED), { hub: { endpoint: hub.url } }));
    assert.ok(refused instanceof JobError, String(refused));
    assert.equal(refused.code, 'NEEDS_TOKEN');
    assert.match(refused.message, /needs a Hugging Face token \(QuantStudio: Set Hugging Face Token or HF_TOKEN\)/);
    assert.ok(hub.log.some((r) => r.path.includes(GATED) && r.status === 401));

    const before = hub.log.length;
    const run = await startJob(generateJob(GATED), { hub: { endpoint: hub.url, token: TOKEN } });
    const requests = hub.log.slice(before);
    assert.ok(requests.length > JOB_FILES.length);
    assert.ok(
      requests.every((r) => r.authorized && r.status === 200),
      'every request carried the token',
    );
    assert.equal(run.model.ref, GATED);
    assert.ok(!JSON.stringify(run).includes(TOKEN));
  });

  it('a model the Hub does not have: its endpoint named in the message', async () => {
    freshCache();
    const error = await failure(startJob(generateJob('test/no-such-model'), { hub: { endpoint: hub.url } }));
    assert.ok(error instanceof JobError, String(error));
    assert.equal(error.code, 'MODEL_NOT_FOUND');
    assert.equal(error.message, `test/no-such-model: no such model on ${hub.url} (check the model id and revision spelling)`);
  });

  it('an unreachable endpoint: named in the message', async () => {
    freshCache();
    const closed = await closedPortUrl();
    const error = await failure(startJob(generateJob(PUBLIC), { hub: { endpoint: closed } }));
    assert.ok(error instanceof JobError, String(error));
    assert.equal(error.code, 'NOT_AVAILABLE');
    assert.match(error.message, new RegExp(`^${PUBLIC}: cannot reach ${closed.replace(/[.]/g, '\\.')} `));
  });

  it('cancel mid-download leaves no partial blob, no snapshot and no ref', async () => {
    const cache = freshCache();
    hub.setBodyPause(20);
    const controller = new AbortController();
    const weightsSize = statSync(join(demo, 'model.safetensors')).size;
    let seenHalfway = false;
    const outcome = await failure(
      startJob(generateJob(PUBLIC), {
        hub: { endpoint: hub.url },
        signal: controller.signal,
        onProgress: (p) => {
          if (p.phase === 'download' && p.message === 'model.safetensors' && p.current > weightsSize / 4 && !seenHalfway) {
            seenHalfway = true;
            controller.abort();
          }
        },
      }),
    ).finally(() => hub.setBodyPause(0));
    assert.ok(seenHalfway, 'the cancel came while the weights were streaming');
    assert.ok(outcome instanceof JobCancelledError, String(outcome));

    const repoDir = join(cache, 'models--test--tiny-llama');
    assert.deepEqual(readdirSync(repoDir), ['blobs'], 'no snapshots/ and no refs/');
    const blobs = await blobNames(hub, PUBLIC);
    const sizeOf = new Map(JOB_FILES.map((f) => [blobs.get(f)!, statSync(join(demo, f)).size]));
    for (const blob of readdirSync(join(repoDir, 'blobs'))) {
      assert.equal(statSync(join(repoDir, 'blobs', blob)).size, sizeOf.get(blob), `${blob} is a whole file`);
    }
    assert.ok(!readdirSync(join(repoDir, 'blobs')).includes(blobs.get('model.safetensors')!));
  });
});

/** The CLI in a child process, without blocking this process's loopback Hub. */
function quantstudioAsync(args: string[], env: NodeJS.ProcessEnv): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(repoRoot, 'client', 'bin', 'quantstudio.js'), ...args], {
      cwd: repoRoot,
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** A loopback URL nothing listens on: a port taken and released. */
async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}
