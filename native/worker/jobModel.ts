// A job's `model` as a local folder: an existing folder as it is; a Hub id (`org/name[@revision]`) as its
// snapshot in the Hugging Face cache, downloaded first when the cache lacks files (progress phase
// `download`). The endpoint and token come from the worker's environment (HF_ENDPOINT, HF_TOKEN), which
// the runner fills from the editor's setting and secret storage.
import * as fs from 'fs';
import * as path from 'path';
import { ensureSnapshot, ModelErrorException, parseHubRef } from '../model';
import type { DownloadProgress, ModelErrorCode } from '../model';
import { JobFailure } from './jobFailure';
import type { ErrorCode } from './protocol';
import { checkModelFolder } from './validateJob';

export interface JobModelOptions {
  signal: AbortSignal;
  onDownload: (progress: DownloadProgress) => void;
  log: (text: string) => void;
  env?: NodeJS.ProcessEnv;
}

const FAILURE_CODES: Record<ModelErrorCode, ErrorCode> = {
  'not-found': 'MODEL_NOT_FOUND',
  'needs-token': 'NEEDS_TOKEN',
  offline: 'NOT_AVAILABLE',
  invalid: 'INVALID_MODEL',
  unsupported: 'INVALID_MODEL',
};

export async function jobModelFolder(model: string, options: JobModelOptions): Promise<string> {
  const hubRef = parseHubRef(model);
  // A folder that happens to be named like a Hub id (`org/name` under the working directory) wins.
  if (!hubRef || fs.statSync(path.resolve(model), { throwIfNoEntry: false })?.isDirectory()) return checkModelFolder(model);
  try {
    const snapshot = await ensureSnapshot(hubRef, {
      signal: options.signal,
      onProgress: options.onDownload,
      ...(options.env ? { env: options.env } : {}),
    });
    if (snapshot.downloaded.length > 0) options.log(`downloaded ${snapshot.downloaded.join(', ')} of ${model} into ${snapshot.folder}`);
    return checkModelFolder(snapshot.folder);
  } catch (error) {
    if (options.signal.aborted) throw new JobFailure('CANCELLED', 'the job was cancelled');
    if (error instanceof ModelErrorException) {
      const { code, message, where, hint } = error.error;
      throw new JobFailure(FAILURE_CODES[code], `${where}: ${message} (${hint})`, where);
    }
    throw error;
  }
}
