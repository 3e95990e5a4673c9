// A Hub model as a local snapshot folder in the Hugging Face cache, in huggingface_hub's layout:
//   models--org--name/blobs/<etag>              the file contents (etag: LFS sha256, else git blob sha1)
//   models--org--name/snapshots/<commit>/<file> relative symlinks into blobs/
//   models--org--name/refs/<branch or tag>      the commit the revision pointed to
// so Python tools share what we download and we share theirs. Only the files a job needs are fetched
// (snapshotFiles.ts). @huggingface/hub's snapshotDownload fetches every file of the repo with no progress or
// cancel, so the files themselves are fetched here; repo info and the file list come from @huggingface/hub.
// A blob is written under a temp name and renamed when whole; snapshot links and the ref come only after
// every blob is in, so a cancelled or failed download never leaves a snapshot that looks complete.
import { HubApiError, listFiles, modelInfo } from '@huggingface/hub';
import type { ListFileEntry } from '@huggingface/hub';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ModelErrorException } from './errors';
import { removeDeadIncomplete } from './leftovers';
import { defaultHubCacheDir, findCachedSnapshot, repoFolderName } from './hfCache';
import { DEFAULT_ENDPOINT, environmentGrant, tokenFor } from './tokenGrant';
import type { TokenGrant } from './tokenGrant';
import type { HubRef } from './hubRef';
import { isJobFile, missingSnapshotFiles } from './snapshotFiles';

export interface DownloadProgress {
  /** The file being fetched (repo path). */
  file: string;
  bytesDone: number;
  bytesTotal: number;
}

export interface SnapshotOptions {
  /** Else HF_ENDPOINT, else https://huggingface.co. */
  endpoint?: string;
  /** The token and the endpoint it is given for; else HF_TOKEN for HF_ENDPOINT (or the public Hub). Sent
   *  to no other endpoint (tokenGrant.ts); never logged or stored. */
  token?: TokenGrant;
  /** Else HF_HUB_CACHE / HF_HOME/hub / ~/.cache/huggingface/hub. */
  cacheDir?: string;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** How long to wait for each answer's headers (not for a whole file). Default 30 s. */
  timeoutMs?: number;
  /** How long a file's body may send nothing before the download gives up. Default 60 s. */
  idleTimeoutMs?: number;
  onProgress?: (progress: DownloadProgress) => void;
}

export interface Snapshot {
  folder: string;
  commit: string;
  /** Repo paths fetched by this call (empty when the cache already had them all). */
  downloaded: string[];
}

interface Settings {
  repoId: string;
  endpoint: string;
  accessToken: string | undefined;
  signal: AbortSignal | undefined;
  timeoutMs: number;
  idleTimeoutMs: number;
}

/** The snapshot of `ref` in the HF cache, downloading what is missing. Throws ModelErrorException or, when cancelled, the abort reason. */
export async function ensureSnapshot(ref: HubRef, options: SnapshotOptions = {}): Promise<Snapshot> {
  const env = options.env ?? process.env;
  const cacheDir = options.cacheDir ?? defaultHubCacheDir(env);
  const cached = await findCachedSnapshot(cacheDir, ref.repoId, ref.revision);
  if (cached && missingSnapshotFiles(cached.folder).length === 0) return { ...cached, downloaded: [] };

  const endpoint = (options.endpoint || env['HF_ENDPOINT'] || DEFAULT_ENDPOINT).replace(/\/+$/, '');
  const settings: Settings = {
    repoId: ref.repoId,
    endpoint,
    accessToken: tokenFor(endpoint, [options.token, environmentGrant(env)]),
    signal: options.signal,
    timeoutMs: options.timeoutMs ?? 30_000,
    idleTimeoutMs: options.idleTimeoutMs ?? 60_000,
  };
  try {
    return await download(ref, cacheDir, settings, options.onProgress);
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason ?? error;
    throw toModelError(error, ref, settings);
  }
}

interface PlannedFile {
  path: string;
  etag: string;
  size: number;
}

async function download(ref: HubRef, cacheDir: string, s: Settings, onProgress: SnapshotOptions['onProgress']): Promise<Snapshot> {
  const common = { hubUrl: s.endpoint, accessToken: s.accessToken, fetch: boundedFetch(s) };
  const info = await modelInfo({ ...common, name: s.repoId, revision: ref.revision, additionalFields: ['sha'] });
  const commit = info.sha;
  if (typeof commit !== 'string' || !/^[0-9a-f]{40}$/.test(commit)) {
    throw new ModelErrorException({
      code: 'invalid',
      message: `${s.endpoint} gave no commit hash for the model`,
      where: s.repoId,
      hint: 'the endpoint is not Hub-compatible; check HF_ENDPOINT',
    });
  }
  const files: PlannedFile[] = [];
  for await (const entry of listFiles({ ...common, repo: { type: 'model', name: s.repoId }, revision: commit })) {
    const planned = plannedFile(entry);
    if (planned) files.push(planned);
  }
  const repoDir = path.join(cacheDir, repoFolderName(s.repoId));
  const snapshotDir = path.join(repoDir, 'snapshots', commit);
  const blobsDir = path.join(repoDir, 'blobs');
  fs.mkdirSync(blobsDir, { recursive: true });
  removeDeadIncomplete(blobsDir);

  const bytesTotal = files.reduce((sum, f) => sum + f.size, 0);
  let bytesDone = 0;
  const downloaded: string[] = [];
  for (const file of files) {
    const blob = path.join(blobsDir, file.etag);
    if (fs.statSync(blob, { throwIfNoEntry: false })?.size !== file.size) {
      onProgress?.({ file: file.path, bytesDone, bytesTotal });
      await fetchBlob(file, blob, commit, s, (n) => onProgress?.({ file: file.path, bytesDone: bytesDone + n, bytesTotal }));
      downloaded.push(file.path);
    }
    bytesDone += file.size;
    onProgress?.({ file: file.path, bytesDone, bytesTotal });
  }
  for (const file of files) linkIntoSnapshot(snapshotDir, file, path.join(blobsDir, file.etag));
  const missing = missingSnapshotFiles(snapshotDir);
  if (missing.length > 0) {
    throw new ModelErrorException({
      code: 'unsupported',
      message: `the repo lacks ${missing.join(', ')} at commit ${commit.slice(0, 8)}`,
      where: s.repoId,
      hint: 'the engine runs models with config.json, safetensors weights and tokenizer.json',
    });
  }
  if (ref.revision !== commit) writeAtomically(path.join(repoDir, 'refs', ref.revision), commit);
  return { folder: snapshotDir, commit, downloaded };
}

function plannedFile(entry: ListFileEntry): PlannedFile | undefined {
  if (entry.type !== 'file' || !isJobFile(entry.path)) return undefined;
  const etag = entry.lfs?.oid ?? entry.oid;
  if (etag === undefined || !/^[0-9a-f]{40,64}$/.test(etag)) return undefined;
  return { path: entry.path, etag, size: entry.lfs?.size ?? entry.size };
}

/**
 * Streams one file into `<blob>.<pid>.incomplete`, renamed to `<blob>` only when all its bytes arrived. A body
 * longer than the size the repo lists is cut off at that size (an endless body must not fill the disk), and one
 * that sends nothing for `idleTimeoutMs` is given up.
 */
async function fetchBlob(file: PlannedFile, blob: string, commit: string, s: Settings, onBytes: (n: number) => void): Promise<void> {
  const url = `${s.endpoint}/${s.repoId}/resolve/${commit}/${file.path.split('/').map(encodeURIComponent).join('/')}`;
  // identity: a compressed transfer would make the byte count differ from the size the tree lists.
  const headers: Record<string, string> = {
    'Accept-Encoding': 'identity',
    ...(s.accessToken ? { Authorization: `Bearer ${s.accessToken}` } : {}),
  };
  const body = new AbortController();
  const response = await boundedFetch(s)(url, { headers, signal: body.signal });
  if (!response.ok) throw new HubApiError(url, response.status);
  const tooLong = (): ModelErrorException =>
    new ModelErrorException({
      code: 'invalid',
      message: `${file.path}: ${s.endpoint} sent more than the ${file.size} bytes the repo lists`,
      where: s.repoId,
      hint: 'the endpoint is not Hub-compatible, or the file changed meanwhile; run the job again',
    });
  if (Number(response.headers.get('content-length') ?? 0) > file.size) {
    body.abort();
    throw tooLong();
  }
  const temp = `${blob}.${process.pid}.incomplete`;
  const out = await fs.promises.open(temp, 'w');
  let written = 0;
  let lastReport = 0;
  let idle = false;
  let idleTimer: NodeJS.Timeout | undefined;
  const armIdle = (): void => {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => {
      idle = true;
      body.abort();
    }, s.idleTimeoutMs);
  };
  try {
    armIdle();
    for await (const chunk of response.body ?? []) {
      armIdle();
      const bytes = chunk as Uint8Array;
      if (written + bytes.byteLength > file.size) throw tooLong();
      await out.write(bytes);
      written += bytes.byteLength;
      const now = Date.now();
      if (now - lastReport >= 100) {
        lastReport = now;
        onBytes(written);
      }
    }
    clearTimeout(idleTimer);
    await out.close();
    if (written !== file.size) {
      throw new ModelErrorException({
        code: 'offline',
        message: `${file.path}: got ${written} of ${file.size} bytes`,
        where: s.repoId,
        hint: 'the connection broke off; run the job again',
      });
    }
    fs.renameSync(temp, blob);
  } catch (error) {
    clearTimeout(idleTimer);
    body.abort();
    await out.close().catch(() => undefined);
    fs.rmSync(temp, { force: true });
    if (idle && !s.signal?.aborted) {
      const message = `${file.path}: ${s.endpoint} sent nothing for ${Math.round(s.idleTimeoutMs / 1000)} s`;
      throw new ModelErrorException({ code: 'offline', message, where: s.repoId, hint: 'the connection stalled; run the job again' });
    }
    throw error;
  }
}

function linkIntoSnapshot(snapshotDir: string, file: PlannedFile, blob: string): void {
  const link = path.join(snapshotDir, file.path);
  // plannedFile took plain names only; this platform's path rules must agree before anything is written
  if (path.dirname(link) !== snapshotDir) {
    throw new ModelErrorException({
      code: 'invalid',
      message: `the repo lists an unsafe file name ${JSON.stringify(file.path)}`,
      where: file.path,
      hint: 'the endpoint is not trustworthy',
    });
  }
  fs.mkdirSync(path.dirname(link), { recursive: true });
  fs.rmSync(link, { force: true });
  try {
    fs.symlinkSync(path.relative(path.dirname(link), blob), link);
  } catch {
    fs.copyFileSync(blob, link); // file systems without symlinks, as huggingface_hub does
  }
}

function writeAtomically(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, text);
  fs.renameSync(temp, file);
}

/** fetch that follows the job's cancel (and the caller's signal) and gives up when the headers take longer than the timeout; the body is watched by fetchBlob. */
function boundedFetch(s: Settings): typeof fetch {
  return async (input, init) => {
    const controller = new AbortController();
    const onAbort = (): void => controller.abort(s.signal?.reason);
    s.signal?.addEventListener('abort', onAbort, { once: true });
    if (s.signal?.aborted) onAbort();
    // the caller's own signal (a stalled or oversized body) ends the request too
    init?.signal?.addEventListener('abort', () => controller.abort(init.signal?.reason), { once: true });
    const timer = setTimeout(() => controller.abort(new DOMException(`no answer in ${s.timeoutMs} ms`, 'TimeoutError')), s.timeoutMs);
    try {
      return await fetch(input, { ...init, signal: controller.signal });
    } finally {
      clearTimeout(timer);
    }
  };
}

function toModelError(error: unknown, ref: HubRef, s: Settings): ModelErrorException {
  if (error instanceof ModelErrorException) return error;
  const where = ref.revision === 'main' ? s.repoId : `${s.repoId}@${ref.revision}`;
  if (error instanceof HubApiError) {
    const status = error.statusCode;
    if (status === 401 || status === 403) {
      const message = s.accessToken
        ? `${s.endpoint} refused the Hugging Face token (HTTP ${status})`
        : `the model needs a Hugging Face token (QuantStudio: Set Hugging Face Token or HF_TOKEN)`;
      const hint = s.accessToken
        ? "check that the token is valid and that you accepted the model's terms on the Hub"
        : 'the model is gated or private';
      return new ModelErrorException({ code: 'needs-token', message, where, hint });
    }
    if (status === 404) {
      return new ModelErrorException({
        code: 'not-found',
        message: `no such model on ${s.endpoint}`,
        where,
        hint: 'check the model id and revision spelling',
      });
    }
    return new ModelErrorException({ code: 'offline', message: `${s.endpoint} answered HTTP ${status}`, where, hint: 'try again later' });
  }
  const cause = error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : String(error);
  const timedOut = error instanceof Error && error.name === 'TimeoutError';
  const message = timedOut ? `no answer from ${s.endpoint} in time` : `cannot reach ${s.endpoint} (${cause})`;
  return new ModelErrorException({
    code: 'offline',
    message,
    where,
    hint: 'check the network connection, or HF_ENDPOINT / the quantstudio.hub.endpoint setting',
  });
}
