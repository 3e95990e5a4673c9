// A loopback Hugging Face Hub for tests: the endpoints @huggingface/hub calls to resolve a model
// (model info, file tree, raw HEAD, resolve with Range), serving fixture folders, with switches for
// gated repos (401 without the right token), slow answers, and a log of every request so tests can
// assert that only header byte ranges of weight files were fetched.
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

export interface HubRepo {
  /** Folder whose files the repo serves. */
  folder: string;
  /** Gated: every request needs `Authorization: Bearer <token>`. */
  token?: string;
  /** Sizes the file tree lists instead of the real ones (a body longer than announced). */
  listedSizes?: Record<string, number>;
}

export interface LoggedRequest {
  method: string;
  path: string;
  /** The Range header, when sent. */
  range: string | undefined;
  status: number;
  /** Body bytes sent. */
  bytes: number;
  authorized: boolean;
  /** Whether the request carried an Authorization header at all (right token or not). */
  bearer: boolean;
}

export interface HubServer {
  url: string;
  log: LoggedRequest[];
  /** Delay every answer by this many milliseconds (to test timeouts). */
  setDelay(ms: number): void;
  /** Send whole-file bodies in 64 KiB pieces this many milliseconds apart (to cancel a download halfway). */
  setBodyPause(ms: number): void;
  /** Send whole-file bodies without Content-Length (chunked), so only the bytes tell their length. */
  setChunked(on: boolean): void;
  /** The commit hash a repo's `main` resolves to. */
  commitOf(repoId: string): string;
  close(): Promise<void>;
}

function commitHash(repoId: string): string {
  return createHash('sha1').update(`quantstudio-test:${repoId}`).digest('hex');
}

function filesOf(folder: string): string[] {
  return readdirSync(folder)
    .filter((f) => statSync(join(folder, f)).isFile())
    .sort();
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): number {
  const text = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': String(text.length), ...headers });
  res.end(text);
  return text.length;
}

/** Writes `data` in 64 KiB pieces `pauseMs` apart; stops when the client goes away. */
function sendSlowly(res: ServerResponse, data: Buffer, pauseMs: number): void {
  let offset = 0;
  const next = (): void => {
    if (res.destroyed) return;
    const piece = data.subarray(offset, (offset += 65536));
    if (offset >= data.length) res.end(piece);
    else res.write(piece, () => setTimeout(next, pauseMs));
  };
  next();
}

function readRange(path: string, start: number, length: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const body = Buffer.alloc(length);
    return body.subarray(0, readSync(fd, body, 0, length, start));
  } finally {
    closeSync(fd);
  }
}

/** Serves a file honouring a single `bytes=a-b` range, as the Hub's resolve endpoint does. */
function sendFile(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  etag: string,
  pauseMs = 0,
  chunked = false,
): { status: number; bytes: number } {
  const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
  const common = { 'Accept-Ranges': 'bytes', ETag: `"${etag}"`, 'Content-Type': 'application/octet-stream' };
  if (range) {
    // Only the range is read: a header-only shard (a sparse file, test/helpers/headerOnlyModel.ts) is gigabytes long.
    const size = statSync(path).size;
    const start = Number(range[1]);
    const end = Math.min(range[2] ? Number(range[2]) : size - 1, size - 1);
    if (start >= size || end < start) {
      res.writeHead(416, { 'Content-Range': `bytes */${size}` });
      res.end();
      return { status: 416, bytes: 0 };
    }
    const body = readRange(path, start, end + 1 - start);
    res.writeHead(206, { ...common, 'Content-Range': `bytes ${start}-${end}/${size}`, 'Content-Length': String(body.length) });
    if (req.method === 'HEAD') return (res.end(), { status: 206, bytes: 0 });
    res.end(body);
    return { status: 206, bytes: body.length };
  }
  const data = readFileSync(path);
  res.writeHead(200, { ...common, ...(chunked ? {} : { 'Content-Length': String(data.length) }) });
  if (req.method === 'HEAD') return (res.end(), { status: 200, bytes: 0 });
  if (pauseMs > 0) sendSlowly(res, data, pauseMs);
  else res.end(data);
  return { status: 200, bytes: data.length };
}

export async function startHubServer(repos: Readonly<Record<string, HubRepo>>): Promise<HubServer> {
  const log: LoggedRequest[] = [];
  let delayMs = 0;
  let bodyPauseMs = 0;
  let chunked = false;
  const revisionOk = (repoId: string, rev: string): boolean => ['main', 'HEAD', commitHash(repoId)].includes(decodeURIComponent(rev));

  const handle = (req: IncomingMessage, res: ServerResponse): { status: number; bytes: number; authorized: boolean } => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const api = parts[0] === 'api' && parts[1] === 'models';
    const [org, name, ...rest] = api ? parts.slice(2) : parts;
    const repoId = `${org}/${name}`;
    const repo = repos[repoId];
    const notFound = (code: string): { status: number; bytes: number; authorized: boolean } => ({
      status: 404,
      bytes: sendJson(res, 404, { error: `${code}: ${repoId}` }, { 'X-Error-Code': code }),
      authorized: true,
    });
    if (!repo) return notFound('RepoNotFound');
    const authorized = repo.token === undefined || req.headers.authorization === `Bearer ${repo.token}`;
    if (!authorized)
      return {
        status: 401,
        bytes: sendJson(
          res,
          401,
          { error: 'Access to this model is restricted. You must be authenticated.' },
          { 'X-Error-Code': 'GatedRepo' },
        ),
        authorized,
      };
    const commit = commitHash(repoId);
    const files = filesOf(repo.folder);
    if (api) {
      // /api/models/:id, /api/models/:id/revision/:rev, /api/models/:id/tree/:rev
      const [kind, rev = 'main'] = rest;
      if (kind !== undefined && !revisionOk(repoId, rev)) return notFound('RevisionNotFound');
      if (kind === 'tree') {
        const tree = files.map((f) => ({
          type: 'file',
          path: f,
          size: repo.listedSizes?.[f] ?? statSync(join(repo.folder, f)).size,
          oid: createHash('sha1').update(f).digest('hex'),
        }));
        return { status: 200, bytes: sendJson(res, 200, tree), authorized };
      }
      const info = {
        _id: commit.slice(0, 24),
        id: repoId,
        sha: commit,
        private: false,
        gated: repo.token ? 'auto' : false,
        downloads: 0,
        likes: 0,
        lastModified: '2026-01-01T00:00:00.000Z',
        pipeline_tag: 'text-generation',
        siblings: files.map((rfilename) => ({ rfilename })),
      };
      return { status: 200, bytes: sendJson(res, 200, info), authorized };
    }
    // /:org/:name/(resolve|raw)/:rev/:path
    const [endpoint, rev, ...pathParts] = rest;
    if ((endpoint !== 'resolve' && endpoint !== 'raw') || rev === undefined) return notFound('EntryNotFound');
    if (!revisionOk(repoId, rev)) return notFound('RevisionNotFound');
    const file = pathParts.join('/');
    if (!files.includes(file)) return notFound('EntryNotFound');
    return {
      ...sendFile(req, res, join(repo.folder, file), createHash('sha1').update(`${commit}/${file}`).digest('hex'), bodyPauseMs, chunked),
      authorized,
    };
  };

  const server: Server = createServer((req, res) => {
    setTimeout(() => {
      if (res.destroyed) return;
      const { status, bytes, authorized } = handle(req, res);
      const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
      log.push({
        method: req.method ?? 'GET',
        path,
        range: req.headers.range,
        status,
        bytes,
        authorized,
        bearer: req.headers.authorization !== undefined,
      });
    }, delayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    log,
    setDelay: (ms) => void (delayMs = ms),
    setBodyPause: (ms) => void (bodyPauseMs = ms),
    setChunked: (on) => void (chunked = on),
    commitOf: commitHash,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
