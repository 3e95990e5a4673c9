// A model in a local folder (a plain checkout or an HF cache snapshot): config.json plus the
// safetensors headers of model.safetensors or of every shard named by model.safetensors.index.json.
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { raise } from './errors';
import { notRegularFile } from './fileKind';
import { CONFIG_FILE, ModelConfigError, parseJsonObject } from './modelConfig';
import { readLocalHeader } from './safetensorsHeader';
import type { JsonObject, TensorMeta } from './types';

export const SINGLE_FILE = 'model.safetensors';
export const INDEX_FILE = 'model.safetensors.index.json';
const MAX_JSON_BYTES = 50_000_000;

/** True for a regular file, false when nothing is there; raises when something else has the name. */
async function exists(path: string): Promise<boolean> {
  const info = await stat(path).catch(() => undefined);
  if (info === undefined) return false;
  const other = notRegularFile(info);
  if (other) raise('invalid', other, path, 'move it away or replace it with the file');
  return true;
}

/** Parses a small JSON object file (modelConfig.ts); raises a ModelError naming the file when it is not one. */
export function jsonObjectOf(text: string, where: string): JsonObject {
  try {
    return parseJsonObject(text, where) as JsonObject;
  } catch (e) {
    if (e instanceof ModelConfigError) raise('invalid', e.problem, e.file, 'fix the file: it must be a JSON object');
    throw e;
  }
}

async function readJsonObject(path: string): Promise<JsonObject> {
  if (!(await exists(path))) raise('not-found', 'file not found', path, 'check the model folder');
  const info = await stat(path);
  if (info.size > MAX_JSON_BYTES) raise('invalid', `${info.size} bytes is too large for a JSON metadata file`, path, 'check the file');
  return jsonObjectOf(await readFile(path, 'utf8'), path);
}

/**
 * Shard file names of an index, in first-seen order. Names must be plain file names in the model
 * folder: an index is data from the internet and must not point the reader elsewhere.
 */
export function shardsOfIndex(index: JsonObject, where: string): { shards: string[]; weightMap: Map<string, string> } {
  const map = index['weight_map'];
  if (typeof map !== 'object' || map === null || Array.isArray(map))
    raise('invalid', 'weight_map is missing or not an object', where, 'fix or re-download the index');
  const weightMap = new Map<string, string>();
  for (const [tensor, shard] of Object.entries(map)) {
    if (typeof shard !== 'string' || !/^[\w.-]+\.safetensors$/.test(shard) || shard.startsWith('.')) {
      raise(
        'invalid',
        `weight_map entry for ${tensor} names an unsafe or non-safetensors file ${JSON.stringify(shard)}`,
        where,
        'fix or re-download the index',
      );
    }
    weightMap.set(tensor, shard);
  }
  return { shards: [...new Set(weightMap.values())], weightMap };
}

/** Every tensor the index lists must be in the shard it names, and every shard tensor in the index. */
export function checkIndexAgainstShards(weightMap: Map<string, string>, tensors: readonly TensorMeta[], where: string): void {
  for (const t of tensors) {
    if (weightMap.get(t.name) !== t.file)
      raise(
        'invalid',
        `tensor ${t.name} is in ${t.file} but the index says ${weightMap.get(t.name) ?? 'nothing'}`,
        where,
        'the index and the shards disagree; re-download the model',
      );
  }
  if (tensors.length !== weightMap.size) {
    const found = new Set(tensors.map((t) => t.name));
    const missing = [...weightMap.keys()].filter((n) => !found.has(n));
    raise(
      'invalid',
      `${missing.length} indexed tensors are in no shard (first: ${missing[0]})`,
      where,
      'a shard is missing or truncated; re-download the model',
    );
  }
}

export async function readLocalModel(folder: string): Promise<{ config: JsonObject; tensors: TensorMeta[] }> {
  const folderInfo = await stat(folder).catch(() => undefined);
  if (!folderInfo?.isDirectory())
    raise(
      'not-found',
      'model folder not found',
      folder,
      'give a folder holding config.json and model.safetensors, or a hub id like org/name',
    );
  const config = await readJsonObject(join(folder, CONFIG_FILE));
  const indexPath = join(folder, INDEX_FILE);
  if (await exists(indexPath)) {
    const { shards, weightMap } = shardsOfIndex(await readJsonObject(indexPath), indexPath);
    const tensors = (await Promise.all(shards.map((s) => readLocalHeader(join(folder, s), s)))).flat();
    checkIndexAgainstShards(weightMap, tensors, indexPath);
    return { config, tensors };
  }
  const single = join(folder, SINGLE_FILE);
  if (await exists(single)) return { config, tensors: await readLocalHeader(single, SINGLE_FILE) };
  return raise(
    'unsupported',
    `neither ${SINGLE_FILE} nor ${INDEX_FILE} found`,
    folder,
    'convert the weights to safetensors (e.g. save_pretrained(safe_serialization=True))',
  );
}
