// config.json through its one reader (native/model/modelConfig.ts): the runtime, the estimate's local and Hub
// readers and the editor's pickers all see the same object and the same errors, naming the file and the field.
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { architectureOf, ModelConfigError, readLocalModel, readModelConfig, readRuntimeConfig } from '../../../native/model';
import type { JsonObject } from '../../../native/model';
import { ModelErrorException } from '../../../native/model/errors';

const tinyLlama = join(__dirname, '..', '..', '..', '..', 'examples', 'tiny-llama');
const temp = mkdtempSync(join(tmpdir(), 'qs-model-config-'));
after(() => rmSync(temp, { recursive: true, force: true }));

/** A copy of the tiny-llama folder with config.json replaced by `text`. */
function folderWith(name: string, text: string): { folder: string; file: string } {
  const folder = join(temp, name);
  mkdirSync(folder);
  cpSync(join(tinyLlama, 'model.safetensors'), join(folder, 'model.safetensors'));
  writeFileSync(join(folder, 'config.json'), text);
  return { folder, file: join(folder, 'config.json') };
}

it('reads config.json once for both sides: the text as stored, the object the runtime and the estimate parse', () => {
  const { config, text, file } = readModelConfig(tinyLlama);
  assert.equal(file, join(tinyLlama, 'config.json'));
  assert.equal(text, readFileSync(file, 'utf8'));
  const runtime = readRuntimeConfig(tinyLlama);
  const arch = architectureOf(config as JsonObject, file);
  assert.ok(arch.ok);
  for (const key of ['layers', 'hidden', 'heads', 'kvHeads', 'headDim'] as const)
    assert.equal(arch.value[key], runtime[key === 'hidden' ? 'hiddenSize' : key]);
  assert.equal(arch.value.vocab, runtime.vocabSize);
  assert.equal(arch.value.intermediate, runtime.intermediateSize);
});

it('a config.json that is not a JSON object is the same error, naming the file, on the runtime side and the estimate side', async () => {
  const cases = [
    ['broken', '{"hidden_size": ', /: cannot read it as JSON \(/],
    ['array', '[1, 2]', /: expected a JSON object$/],
  ] as const;
  for (const [name, text, problem] of cases) {
    const { folder, file } = folderWith(name, text);
    assert.throws(
      () => readModelConfig(folder),
      (e: unknown) => e instanceof ModelConfigError && e.file === file && problem.test(e.message),
    );
    assert.throws(
      () => readRuntimeConfig(folder),
      (e: unknown) => e instanceof ModelConfigError && e.message.startsWith(`${file}: `),
    );
    await assert.rejects(
      readLocalModel(folder),
      (e: unknown) =>
        e instanceof ModelErrorException && e.error.code === 'invalid' && e.error.where === file && problem.test(`: ${e.error.message}`),
    );
  }
});

it('a missing config.json and a field out of range name the file and the field', () => {
  const empty = join(temp, 'empty');
  mkdirSync(empty);
  assert.throws(
    () => readModelConfig(empty),
    new ModelConfigError(join(empty, 'config.json'), 'not found; a model folder needs its config.json'),
  );
  const { folder, file } = folderWith(
    'zero-layers',
    JSON.stringify({ ...JSON.parse(readFileSync(join(tinyLlama, 'config.json'), 'utf8')), num_hidden_layers: 0 }),
  );
  assert.throws(() => readRuntimeConfig(folder), { message: `${file}: \`num_hidden_layers\` must be a positive integer, got 0` });
});
