// `quantstudio recommend` as a user runs it: the ranking of a real model's shapes (the same as advise() on the
// same folder), the job file --write leaves (clean in the language service, and it runs), and errors with their
// exit codes.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { advise, resolveModel } from '../../../native/model';
import { createLanguageService } from '../../../server/src/service';
import { quantstudio as runCli, repoRoot as repo } from '../../helpers/cli';
import { writeHeaderOnlyModel } from '../../helpers/headerOnlyModel';

const temp = mkdtempSync(join(tmpdir(), 'qs-recommend-cli-'));
after(() => rmSync(temp, { recursive: true, force: true }));

function quantstudio(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const env = { ...process.env, HF_HUB_CACHE: join(temp, 'hf'), HF_ENDPOINT: 'http://127.0.0.1:9', XDG_CACHE_HOME: join(temp, 'cache') };
  return runCli(args, repo, env);
}

interface RecommendJson {
  budgetBytes: number;
  candidates: Array<{ id: string; rank: number; fits: boolean; peakBytes: number; tokensPerSecond?: number; kernel?: { path: string } }>;
  written: string | null;
}

describe('quantstudio recommend', () => {
  const llama = writeHeaderOnlyModel('llama-3.1-8b', temp);

  it('--json on Llama-3.1-8B for an RTX 4090 serving with vLLM: the ranking advise() gives', async () => {
    const run = quantstudio(['recommend', llama, '--device', 'rtx-4090', '--target', 'vllm', '--json']);
    assert.equal(run.status, 0, run.stderr);
    const out = JSON.parse(run.stdout) as RecommendJson;
    const model = await resolveModel(llama, {});
    assert.ok(model.ok);
    const expected = advise(model.model, { budgetBytes: 24 * 2 ** 30, budgetLabel: '', bandwidthBytesPerSecond: 1008e9, target: 'vllm' });
    assert.ok(expected.ok);
    assert.equal(out.budgetBytes, 24 * 2 ** 30);
    assert.deepEqual(
      out.candidates.map((c) => [c.id, c.fits, c.peakBytes, c.tokensPerSecond, c.kernel?.path]),
      expected.value.map((a) => [a.id, a.fits, a.estimate.peakBytes, a.tokensPerSecond, a.kernel?.path]),
    );
    assert.equal(out.written, null);
  });

  it('the human table: one line per candidate in rank order, and what the predictions rest on', () => {
    const run = quantstudio(['recommend', llama, '--budget', '6GiB']);
    assert.equal(run.status, 0, run.stderr);
    const json = JSON.parse(quantstudio(['recommend', llama, '--budget', '6GiB', '--json']).stdout) as RecommendJson;
    const lines = run.stdout.split('\n');
    const first = lines.findIndex((l) => l.startsWith('1 '));
    json.candidates.forEach((c, i) => assert.match(lines[first + i]!, new RegExp(`^${c.rank}\\s`)));
    assert.match(run.stdout, /^ {2}memory: {2}estimate at the model's tensor shapes, batch 1, 2048 tokens/m);
    assert.match(run.stdout, /^ {2}speed: {3}unknown: no memory bandwidth for this device$/m);
  });

  it('--write on the demo model: a job file the language service finds nothing wrong with, and it runs', async () => {
    const jobFile = join(temp, 'pick.quant.json');
    const run = quantstudio([
      'recommend',
      'examples/tiny-llama',
      '--budget',
      '1GiB',
      '--write',
      jobFile,
      '--pick',
      'rtn-4bit-g128',
      '--json',
    ]);
    assert.equal(run.status, 0, run.stderr);
    assert.equal((JSON.parse(run.stdout) as RecommendJson).written, jobFile);
    const job = JSON.parse(readFileSync(jobFile, 'utf8')) as Record<string, unknown>;
    assert.equal(job['algorithm'], 'rtn');
    assert.equal(job['calibration'], undefined);
    const service = createLanguageService({ models: {} });
    const diagnostics = await service.diagnose({ uri: pathToFileURL(jobFile).href, text: readFileSync(jobFile, 'utf8') });
    assert.deepEqual(
      diagnostics.map((d) => `${d.code}: ${d.message}`),
      [],
    );

    const again = quantstudio(['recommend', 'examples/tiny-llama', '--budget', '1GiB', '--write', jobFile]);
    assert.equal(again.status, 1);
    assert.equal(again.stderr, `quantstudio recommend: ${jobFile} exists; give --overwrite to replace it\n`);

    // a short evaluation, so the run takes seconds
    job['options'] = { evaluate: { after: true, maxTokens: 512 } };
    writeFileSync(jobFile, JSON.stringify(job));
    const quantize = quantstudio(['quantize', jobFile, '--json']);
    assert.equal(quantize.status, 0, quantize.stderr);
    const result = JSON.parse(quantize.stdout) as { metrics: { perplexityAfter: number }; output: { folder: string } };
    assert.ok(result.metrics.perplexityAfter > 1 && Number.isFinite(result.metrics.perplexityAfter));
    assert.equal(result.output.folder, join(temp, '.quantstudio', 'models', 'tiny-llama-rtn-4bit-g128'));
  });

  it('--evaluate 1 on the demo model: the first runnable pick and the model as it is, each over the same short text', () => {
    const run = quantstudio(['recommend', 'examples/tiny-llama', '--budget', '1GiB', '--evaluate', '1', '--json']);
    assert.equal(run.status, 0, run.stderr);
    const out = JSON.parse(run.stdout) as RecommendJson & { evaluated: Array<{ id: string; perplexity: number }> };
    const first = out.candidates.find((c) => c.fits && c.id !== 'fp16')!;
    assert.deepEqual(
      out.evaluated.map((e) => e.id),
      ['fp16', first.id],
    );
    for (const e of out.evaluated) assert.ok(e.perplexity > 1 && Number.isFinite(e.perplexity), e.id);
  });

  it('usage errors exit 2 and say what is wrong; a model that is not there exits 1', () => {
    const cases: Array<[string[], string]> = [
      [['recommend', llama], 'give one of --budget <size> or --device <id>'],
      [['recommend', llama, '--budget', '6', '--device', 'l4'], 'give one of --budget <size> or --device <id>'],
      [['recommend', llama, '--budget', 'six'], "--budget: budget 'six' is not a size: write e.g. 6GiB, 24GB or 512MiB"],
      [
        ['recommend', llama, '--device', 'l4', '--target', 'onnx'],
        "--target must be one of vllm, tgi, transformers, gptqmodel, llama.cpp, quantstudio, got 'onnx'",
      ],
      [['recommend', llama, '--device', 'l4', '--pick', 'fp16', '--write', 'x.quant.json'], '--pick must be one of'],
      [['recommend', '--budget', '6GiB'], 'give the model folder or Hub id'],
    ];
    for (const [args, message] of cases) {
      const run = quantstudio(args);
      assert.equal(run.status, 2, args.join(' '));
      assert.ok(run.stderr.startsWith(`quantstudio recommend: ${message}`), run.stderr);
    }
    const missing = quantstudio(['recommend', join(temp, 'nowhere'), '--budget', '6GiB']);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /^quantstudio recommend: /);
  });
});
