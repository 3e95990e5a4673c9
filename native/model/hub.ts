// A model on the Hugging Face Hub (or any Hub-compatible endpoint) through @huggingface/hub:
// model info for the commit, config.json, and the safetensors headers by HTTP range requests
// (parseSafetensorsMetadata) — never the weights themselves.
import { downloadFile, HubApiError, modelInfo, parseSafetensorsMetadata } from '@huggingface/hub';
import { jsonObjectOf } from './localFolder';
import { CONFIG_FILE } from './modelConfig';
import { raise, ModelErrorException } from './errors';
import { tensorsOfHeader } from './safetensorsHeader';
import type { JsonObject, TensorMeta } from './types';

export { DEFAULT_ENDPOINT } from './tokenGrant';

export interface HubOptions {
  endpoint: string;
  /** Never logged, never written anywhere. */
  accessToken: string | undefined;
  timeoutMs: number;
}

export interface HubModel {
  commit: string;
  config: JsonObject;
  tensors: TensorMeta[];
}

/** A fetch that gives up after `timeoutMs`, so an unreachable Hub becomes an 'offline' error, not a hang. */
function fetchWithTimeout(timeoutMs: number): typeof fetch {
  return (input, init) => fetch(input, { ...init, signal: AbortSignal.timeout(timeoutMs) });
}

/** Turns whatever the Hub client threw into a ModelError the user can act on. */
function toModelError(error: unknown, repoId: string, endpoint: string): ModelErrorException {
  if (error instanceof ModelErrorException) return error;
  if (error instanceof HubApiError) {
    const status = error.statusCode;
    if (status === 401 || status === 403) {
      return new ModelErrorException({
        code: 'needs-token',
        message: `the Hub refused access (HTTP ${status}); the model is gated or private`,
        where: repoId,
        hint: 'needs a token (set HF_TOKEN or the quantstudio.hub token) and accepted model terms',
      });
    }
    if (status === 404) {
      return new ModelErrorException({
        code: 'not-found',
        message: `no such model or revision on ${endpoint} (HTTP 404)`,
        where: repoId,
        hint: 'check the model id and revision spelling',
      });
    }
    return new ModelErrorException({ code: 'offline', message: `the Hub answered HTTP ${status}`, where: repoId, hint: 'try again later' });
  }
  const name = error instanceof Error ? error.name : '';
  const timedOut = name === 'TimeoutError' || name === 'AbortError';
  const message = timedOut
    ? `no answer from ${endpoint} in time`
    : `cannot reach ${endpoint} (${error instanceof Error ? error.message : String(error)})`;
  return new ModelErrorException({
    code: 'offline',
    message,
    where: repoId,
    hint: 'check the network or HF_ENDPOINT; the last cached answer is used when there is one',
  });
}

export async function readHubModel(repoId: string, revision: string, options: HubOptions): Promise<HubModel> {
  const common = { hubUrl: options.endpoint, accessToken: options.accessToken, fetch: fetchWithTimeout(options.timeoutMs) };
  try {
    const info = await modelInfo({ ...common, name: repoId, revision, additionalFields: ['sha'] });
    const commit = info.sha;
    if (typeof commit !== 'string' || commit === '')
      raise('invalid', 'model info has no commit sha', repoId, 'the endpoint is not Hub-compatible');
    const repo = { type: 'model' as const, name: repoId };
    const configBlob = await downloadFile({ ...common, repo, revision: commit, path: 'config.json' });
    if (!configBlob)
      raise(
        'not-found',
        'the repo has no config.json',
        `${repoId}/config.json`,
        'only transformers models (with a config.json) can be estimated',
      );
    const config = jsonObjectOf(await configBlob.text(), `${repoId}/${CONFIG_FILE}`);
    const parsed = await parseSafetensorsMetadata({ ...common, repo, revision: commit });
    const where = (file: string): string => `${repoId}@${commit.slice(0, 8)}/${file}`;
    // parseSafetensorsMetadata already checked offsets against each file's size; shapes are checked here.
    const headers = parsed.sharded
      ? Object.entries(parsed.headers)
      : [[parsed.filepaths[0] ?? 'model.safetensors', parsed.header] as const];
    const tensors = headers.flatMap(([file, header]) => tensorsOfHeader(header, Number.MAX_SAFE_INTEGER, file, where(file)));
    return { commit, config, tensors };
  } catch (error) {
    const { name } = error instanceof Error ? error : { name: '' };
    if (name === 'SafetensorParseError') {
      throw new ModelErrorException({
        code: 'invalid',
        message: (error as Error).message,
        where: repoId,
        hint: 'the checkpoint is malformed; report it to the model owner',
      });
    }
    throw toModelError(error, repoId, options.endpoint);
  }
}
