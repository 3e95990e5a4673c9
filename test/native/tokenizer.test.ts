import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { TextTokenizer } from '../../native/lib/tokenizer';
import { goldenPrompts, goldenModels, repoRoot, tinyLlamaDir } from './runtime-fixtures';

const fixtureInfo = JSON.parse(fs.readFileSync(path.join(repoRoot, 'test', 'fixtures', 'tiny-llama', 'fixture_info.json'), 'utf8')) as {
  prompts: string[];
};

test('tiny-llama prompts encode to the golden input ids (no special tokens added)', () => {
  const tokenizer = TextTokenizer.load(tinyLlamaDir);
  const golden = goldenPrompts(goldenModels[0].golden);
  assert.equal(fixtureInfo.prompts.length, golden.length);
  fixtureInfo.prompts.forEach((prompt, i) => assert.deepEqual(tokenizer.encode(prompt), golden[i].ids, JSON.stringify(prompt)));
});

test('decode inverts encode; eos comes from tokenizer_config.json', () => {
  const tokenizer = TextTokenizer.load(tinyLlamaDir);
  const text = 'ROMEO: O, she doth teach the torches to burn bright!';
  assert.equal(tokenizer.decode(tokenizer.encode(text)), text);
  assert.equal(tokenizer.eosTokenId, 0);
  assert.equal(tokenizer.hasChatTemplate, false);
  assert.throws(() => tokenizer.applyChatTemplate([{ role: 'user', content: 'hi' }]), /no chat_template/);
});

test('a chat template renders the messages and opens the assistant turn', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qs-tokenizer-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.copyFileSync(path.join(tinyLlamaDir, 'tokenizer.json'), path.join(dir, 'tokenizer.json'));
  const template =
    '{% for m in messages %}<|{{ m.role }}|>{{ m.content }}{{ eos_token }}{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}';
  fs.writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify({ eos_token: '<|endoftext|>', chat_template: template }));
  const tokenizer = TextTokenizer.load(dir);
  assert.equal(
    tokenizer.applyChatTemplate([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hello' },
    ]),
    '<|system|>Be brief.<|endoftext|><|user|>Hello<|endoftext|><|assistant|>',
  );
});

test('a folder without tokenizer.json is an error that names the file', () => {
  const dir = path.join(repoRoot, 'test', 'fixtures', 'qwen2-random');
  assert.throws(() => TextTokenizer.load(dir), /qwen2-random\/tokenizer\.json: not found/);
});

test('a broken tokenizer.json or tokenizer_config.json is an error that names the file and the fault', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qs-tokenizer-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const json = path.join(dir, 'tokenizer.json');
  const at = (name: string) => new RegExp(`${path.join(dir, name).replace(/[.\\/]/g, '\\$&')}: `);
  const fails = (name: string, fault: RegExp) =>
    assert.throws(
      () => TextTokenizer.load(dir),
      (e: Error) => {
        assert.match(e.message, at(name));
        assert.match(e.message, fault);
        return true;
      },
    );
  fs.writeFileSync(json, '{"model": {"type": "BPE", ');
  fails('tokenizer.json', /invalid JSON/);
  fs.writeFileSync(json, '[1, 2]');
  fails('tokenizer.json', /expected a JSON object, found an array/);
  fs.writeFileSync(json, JSON.stringify({ model: { type: 'NoSuchModel' } }));
  fails('tokenizer.json', /not a usable tokenizer/);
  fs.copyFileSync(path.join(tinyLlamaDir, 'tokenizer.json'), json);
  fs.writeFileSync(path.join(dir, 'tokenizer_config.json'), '{,}');
  fails('tokenizer_config.json', /invalid JSON/);
});
