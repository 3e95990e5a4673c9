// `quantstudio perplexity` and `quantstudio generate` as a user runs them: the job runs in a worker
// process, and its figures equal the same computation done in-process through the engine's TS API.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { after, describe, it } from 'node:test';
import { quantstudio, repoRoot } from '../helpers/cli';
import { generateText } from '../../native/lib/generate';
import { textPerplexity } from '../../native/lib/perplexity';
import { RuntimeModel } from '../../native/lib/runtime';
import { TextTokenizer } from '../../native/lib/tokenizer';

const repo = repoRoot;
const demo = join(repo, 'examples', 'tiny-llama');

describe('quantstudio perplexity / generate', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'qs-cli-jobs-'));
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it('perplexity --json equals the in-process protocol on the same text', async () => {
    const text = join(scratch, 'text.txt');
    writeFileSync(text, 'The history of the city begins in the Roman period , when a fort was built on the river . '.repeat(20));
    const run = quantstudio(['perplexity', '--model', demo, '--text', text, '--seq', '64', '--json']);
    assert.equal(run.status, 0, run.stderr);
    const out = JSON.parse(run.stdout) as { perplexity: number; tokens: number; seq: number; run: { kind: string } };
    const expected = await textPerplexity(RuntimeModel.open(demo), TextTokenizer.load(demo), readFileSync(text, 'utf8'), { seq: 64 });
    assert.equal(out.tokens, expected.tokens);
    assert.equal(out.seq, 64);
    assert.ok(Math.abs(out.perplexity - expected.perplexity) < 1e-9, `${out.perplexity} vs ${expected.perplexity}`);
    assert.equal(out.run.kind, 'perplexity');
  });

  it('generate streams the same greedy text as the in-process engine', async () => {
    const expected = await generateText(RuntimeModel.open(demo), TextTokenizer.load(demo), { prompt: 'ROMEO:', maxTokens: 24 });
    const plain = quantstudio(['generate', '--model', demo, '--prompt', 'ROMEO:', '--max-tokens', '24']);
    assert.equal(plain.status, 0, plain.stderr);
    assert.equal(plain.stdout, `ROMEO:${expected.text}\n`);
    assert.match(plain.stderr, new RegExp(`^${expected.tokens.length} tokens, [0-9.]+ tokens/s$`, 'm'));

    const json = quantstudio(['generate', '--model', demo, '--prompt', 'ROMEO:', '--max-tokens', '24', '--json']);
    assert.equal(json.status, 0, json.stderr);
    const out = JSON.parse(json.stdout) as { text: string; tokens: number; tokensPerSecond: number };
    assert.equal(out.text, expected.text);
    assert.equal(out.tokens, expected.tokens.length);
    assert.ok(out.tokensPerSecond > 0);
  });

  it("--kv-cache fp16 runs the job on an fp16 cache: the in-process engine's fp16 text and perplexity, the option in the run", async () => {
    const halves = RuntimeModel.open(demo, { kvCache: 'fp16' });
    const expected = await generateText(halves, TextTokenizer.load(demo), { prompt: 'ROMEO:', maxTokens: 24 });
    const json = quantstudio(['generate', '--model', demo, '--prompt', 'ROMEO:', '--max-tokens', '24', '--kv-cache', 'fp16', '--json']);
    assert.equal(json.status, 0, json.stderr);
    const out = JSON.parse(json.stdout) as { text: string; run: { options: { kvCache?: string } } };
    assert.equal(out.text, expected.text);
    assert.equal(out.run.options.kvCache, 'fp16');

    const text = join(scratch, 'kv-text.txt');
    writeFileSync(text, 'The history of the city begins in the Roman period , when a fort was built on the river . '.repeat(20));
    const ppl = quantstudio(['perplexity', '--model', demo, '--text', text, '--seq', '64', '--kv-cache', 'fp16', '--json']);
    assert.equal(ppl.status, 0, ppl.stderr);
    const measured = (JSON.parse(ppl.stdout) as { perplexity: number }).perplexity;
    const inProcess = await textPerplexity(halves, TextTokenizer.load(demo), readFileSync(text, 'utf8'), { seq: 64 });
    const fp32 = await textPerplexity(RuntimeModel.open(demo), TextTokenizer.load(demo), readFileSync(text, 'utf8'), { seq: 64 });
    assert.ok(Math.abs(measured - inProcess.perplexity) < 1e-9, `${measured} vs ${inProcess.perplexity}`);
    assert.notEqual(measured, fp32.perplexity);

    const usage = quantstudio(['generate', '--model', demo, '--prompt', 'x', '--kv-cache', 'f16']);
    assert.equal(usage.status, 2);
    assert.match(usage.stderr, /--kv-cache must be fp32 or fp16, got 'f16'/);

    const int8 = await generateText(RuntimeModel.open(demo, { lmHead: 'int8' }), TextTokenizer.load(demo), {
      prompt: 'ROMEO:',
      maxTokens: 24,
    });
    const head = quantstudio(['generate', '--model', demo, '--prompt', 'ROMEO:', '--max-tokens', '24', '--lm-head', 'int8', '--json']);
    assert.equal(head.status, 0, head.stderr);
    const headOut = JSON.parse(head.stdout) as { text: string; run: { options: { lmHead?: string } } };
    assert.equal(headOut.text, int8.text);
    assert.equal(headOut.run.options.lmHead, 'int8');
    const badHead = quantstudio(['perplexity', '--model', demo, '--lm-head', 'int4']);
    assert.equal(badHead.status, 2);
    assert.match(badHead.stderr, /--lm-head must be stored or int8, got 'int4'/);
  });

  it('on a terminal, the streamed text starts on a cleared line and no progress line is drawn over it', async (t) => {
    // util-linux `script` runs the CLI on a real pseudo-terminal, where stdout and stderr share one line
    if (spawnSync('script', ['--version']).status !== 0) return t.skip('util-linux script is not installed');
    const expected = await generateText(RuntimeModel.open(demo), TextTokenizer.load(demo), { prompt: 'ROMEO:', maxTokens: 20 });
    const bin = join(repo, 'client', 'bin', 'quantstudio.js');
    const command = `'${process.execPath}' '${bin}' generate --model '${demo}' --prompt 'ROMEO:' --max-tokens 20`;
    const tty = spawnSync('script', ['-qec', command, '/dev/null'], { cwd: repo, encoding: 'utf8' });
    assert.equal(tty.status, 0, tty.stdout);
    const start = tty.stdout.indexOf('ROMEO:');
    assert.ok(
      start > 0 && tty.stdout.slice(0, start).endsWith('\r\x1b[2K'),
      `the progress line is cleared before the text: ${JSON.stringify(tty.stdout.slice(0, start))}`,
    );
    const rest = tty.stdout.slice(start).replace(/\r\n/g, '\n');
    assert.match(
      rest,
      new RegExp(`^ROMEO:${expected.text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\n${expected.tokens.length} tokens, [0-9.]+ tokens/s\n$`),
      JSON.stringify(rest),
    );
  });

  it('a missing model folder is a clear error with exit 1; a bad flag is a usage error with exit 2', () => {
    const missing = join(scratch, 'no-such-model');
    const run = quantstudio(['perplexity', '--model', missing]);
    assert.equal(run.status, 1);
    assert.equal(run.stdout, '');
    assert.match(run.stderr, new RegExp(`quantstudio perplexity: model folder not found: ${missing}`));
    const usage = quantstudio(['generate', '--model', demo, '--prompt', 'x', '--max-tokens', 'many']);
    assert.equal(usage.status, 2);
    assert.match(usage.stderr, /--max-tokens must be a positive integer, got 'many'/);
  });
});
