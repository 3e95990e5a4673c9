// A directory or a FIFO where a model file should be is reported as what it is, never as "not found",
// and a FIFO never blocks a reader (opening one for reading waits for a writer).
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';

import { readSafetensorsHeader } from '../../native/lib/io';
import { RuntimeModel } from '../../native/lib/runtime';
import { TextTokenizer } from '../../native/lib/tokenizer';
import { readLocalModel, readRuntimeConfig } from '../../native/model';
import { validateJob } from '../../native/worker/validateJob';
import { tinyLlamaDir } from './runtime-fixtures';

const dirs: string[] = [];
after(() => dirs.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

type Kind = 'directory' | 'fifo';
const MESSAGE: Record<Kind, RegExp> = { directory: /is a directory, not a file/, fifo: /is a FIFO \(named pipe\), not a regular file/ };

/** tiny-llama's config and tokenizer, with `name` made a directory or a FIFO. */
function folderWith(name: string, kind: Kind, files: Record<string, string> = {}): { dir: string; file: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qs-notafile-'));
  dirs.push(dir);
  for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'model.safetensors']) {
    if (f !== name) fs.copyFileSync(path.join(tinyLlamaDir, f), path.join(dir, f));
  }
  for (const [f, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, f), text);
  const file = path.join(dir, name);
  if (kind === 'directory') fs.mkdirSync(file);
  else execFileSync('mkfifo', [file]);
  return { dir, file };
}

function named(file: string, kind: Kind): (e: Error) => boolean {
  return (e) => {
    assert.ok(e.message.includes(file), e.message);
    assert.match(e.message, MESSAGE[kind]);
    assert.doesNotMatch(e.message, /not found|missing/);
    return true;
  };
}

for (const kind of ['directory', 'fifo'] as const) {
  test(`model.safetensors that is a ${kind}: the engine and the header reader say so`, async () => {
    const { dir, file } = folderWith('model.safetensors', kind);
    assert.throws(() => RuntimeModel.open(dir), named(file, kind));
    assert.throws(() => readSafetensorsHeader(file), named(file, kind));
    await assert.rejects(readLocalModel(dir), named(file, kind));
  });

  test(`a shard that is a ${kind}: the engine and the header reader say so`, async () => {
    const index = JSON.stringify({ weight_map: { 'model.embed_tokens.weight': 'model-00001-of-00001.safetensors' } });
    const { dir, file } = folderWith('model-00001-of-00001.safetensors', kind, { 'model.safetensors.index.json': index });
    fs.rmSync(path.join(dir, 'model.safetensors'));
    assert.throws(() => RuntimeModel.open(dir), named(file, kind));
    await assert.rejects(readLocalModel(dir), named(file, kind));
  });

  test(`config.json or tokenizer.json that is a ${kind}: named, and no read blocks`, () => {
    const config = folderWith('config.json', kind);
    assert.throws(() => readRuntimeConfig(config.dir), named(config.file, kind));
    const tokenizer = folderWith('tokenizer.json', kind);
    assert.throws(() => TextTokenizer.load(tokenizer.dir), named(tokenizer.file, kind));
  });
}

test('a job input file that is a directory or a FIFO is refused as such before anything reads it', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qs-notafile-'));
  dirs.push(dir);
  const fifo = path.join(dir, 'text.fifo');
  execFileSync('mkfifo', [fifo]);
  const job = (text: string) => ({ kind: 'perplexity', model: tinyLlamaDir, options: { text } });
  assert.throws(() => validateJob(job(dir)), new RegExp(`options\\.text: ${dir.replace(/[.\\/]/g, '\\$&')} is a directory, not a file`));
  assert.throws(() => validateJob(job(fifo)), /options\.text: .*text\.fifo is a FIFO \(named pipe\), not a regular file/);
  assert.throws(() => validateJob(job(path.join(dir, 'none.txt'))), /options\.text: file not found/);
});
