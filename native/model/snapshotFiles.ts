// Which files of a Hub repo a job needs, and whether a snapshot folder holds all of them. Pure file-system
// reads, no network: the worker uses it to skip a download, the editor's model pick to list cached models.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Top-level repo files a job reads: config, weights (safetensors only; no .bin/.pt/.gguf) and tokenizer. */
const JOB_FILES: readonly RegExp[] = [
  /^config\.json$/,
  /^generation_config\.json$/,
  /^[^/]+\.safetensors$/,
  /^[^/]+\.safetensors\.index\.json$/,
  /^tokenizer\.json$/,
  /^tokenizer_config\.json$/,
  /^special_tokens_map\.json$/,
];

/**
 * A file name that stays inside the snapshot folder under both POSIX and Windows path rules: letters, digits,
 * `_`, `-` and `.`, no leading dot, no Windows device name. A repo listing is data from the internet:
 * `x\..\..\evil.safetensors` has no `/` but is a path on Windows, and a leading dot makes `..` or a hidden file.
 */
export function isPlainFileName(name: string): boolean {
  return /^[\w-][\w.-]*$/.test(name) && !/^(con|prn|aux|nul|com\d|lpt\d)(\.|$)/i.test(name);
}

export function isJobFile(repoPath: string): boolean {
  return isPlainFileName(repoPath) && JOB_FILES.some((pattern) => pattern.test(repoPath));
}

const SHARD_INDEX = 'model.safetensors.index.json';

function isFile(file: string): boolean {
  // stat follows the snapshot's symlinks: a link to a missing blob is not a file.
  return fs.statSync(file, { throwIfNoEntry: false })?.isFile() ?? false;
}

/** The weight files a snapshot must hold: the shards its index names, else its model.safetensors. */
function weightFiles(folder: string): string[] | string {
  const index = path.join(folder, SHARD_INDEX);
  if (!isFile(index)) return ['model.safetensors'];
  try {
    const parsed = JSON.parse(fs.readFileSync(index, 'utf8')) as { weight_map?: Record<string, unknown> };
    const shards = Object.values(parsed.weight_map ?? {}).filter((v): v is string => typeof v === 'string');
    const unsafe = shards.find((shard) => !isPlainFileName(shard));
    if (unsafe !== undefined) return `${SHARD_INDEX} names a shard outside the snapshot folder (${JSON.stringify(unsafe)})`;
    return shards.length > 0 ? [...new Set(shards)] : `${SHARD_INDEX} has no weight_map`;
  } catch {
    return `${SHARD_INDEX} is not valid JSON`;
  }
}

/**
 * What a snapshot folder lacks for a job: config.json, every safetensors shard, tokenizer.json. Empty when
 * complete. (tokenizer_config.json and the other small files are optional: not every repo has them.)
 */
export function missingSnapshotFiles(folder: string): string[] {
  const weights = weightFiles(folder);
  if (typeof weights === 'string') return [weights];
  return ['config.json', ...weights, 'tokenizer.json'].filter((name) => !isFile(path.join(folder, name)));
}
