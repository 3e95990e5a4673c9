// `quantstudio estimate` as a user runs it: --json shape and figures, the comparison, the human table,
// errors on stderr with a non-zero exit.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { quantstudio as runCli, repoRoot as repo } from '../../helpers/cli';

const temp = mkdtempSync(join(tmpdir(), 'qs-estimate-cli-'));
after(() => rmSync(temp, { recursive: true, force: true }));

function quantstudio(args: string[]): { status: number | null; stdout: string; stderr: string } {
  // No network and no user cache: a temp HF cache and a closed endpoint.
  const env = { ...process.env, HF_HUB_CACHE: join(temp, 'hf'), HF_ENDPOINT: 'http://127.0.0.1:9', XDG_CACHE_HOME: join(temp, 'cache') };
  return runCli(args, repo, env);
}

interface EstimateJson {
  weightsBytes: number;
  kvCacheBytes: number;
  peakBytes: number;
  method: string;
  breakdown: Array<{ label: string; bytes: number; count: number }>;
  methods?: Array<{ label: string; weightsBytes: number; peakBytes: number }>;
}

const tinyFile = join(repo, 'examples', 'tiny-llama', 'model.safetensors');
const tinyWeights = statSync(tinyFile).size - 8 - Number(readFileSync(tinyFile).readBigUInt64LE(0));
const tiny = JSON.parse(readFileSync(join(repo, 'examples', 'tiny-llama', 'config.json'), 'utf8')) as Record<string, number>;

describe('quantstudio estimate', () => {
  it('--json without --config: weights as stored plus every compared method', () => {
    const { status, stdout, stderr } = quantstudio([
      'estimate',
      '--model',
      'examples/tiny-llama',
      '--batch',
      '2',
      '--seq',
      '300',
      '--json',
    ]);
    assert.equal(status, 0, stderr);
    const out = JSON.parse(stdout) as EstimateJson;
    assert.equal(out.weightsBytes, tinyWeights);
    assert.equal(out.kvCacheBytes, 2 * tiny['num_hidden_layers']! * tiny['num_key_value_heads']! * tiny['head_dim']! * 2 * 300 * 2);
    assert.equal(
      out.breakdown.reduce((a, l) => a + l.bytes, 0),
      out.peakBytes,
    );
    assert.deepEqual(
      out.methods?.map((m) => m.label),
      ['fp16 (as stored)', 'GPTQ 4-bit g128', 'GPTQ 3-bit g128', 'AWQ 4-bit g128', 'NF4', 'int8'],
    );
  });

  it('--config with an AutoGPTQ quantize_config.json', () => {
    const config = join(temp, 'quantize_config.json');
    writeFileSync(config, JSON.stringify({ bits: 4, group_size: 128, desc_act: true, sym: true }));
    const { status, stdout, stderr } = quantstudio(['estimate', '--model', 'examples/tiny-llama', '--config', config, '--json']);
    assert.equal(status, 0, stderr);
    const out = JSON.parse(stdout) as EstimateJson;
    assert.equal(out.method, 'GPTQ 4-bit g128 act-order');
    assert.equal(out.methods, undefined);
    const qProj = out.breakdown.find((l) => l.label === 'q_proj');
    const [o, i] = [tiny['num_attention_heads']! * tiny['head_dim']!, tiny['hidden_size']!];
    assert.deepEqual(qProj, {
      label: 'q_proj',
      count: tiny['num_hidden_layers']!,
      bytes: tiny['num_hidden_layers']! * ((i / 8) * o * 4 + (i / 128) * (o / 8) * 4 + (i / 128) * o * 2 + i * 4),
    });
  });

  it('prints a human table', () => {
    const { status, stdout } = quantstudio(['estimate', '--model', 'examples/tiny-llama', '--seq', '512']);
    assert.equal(status, 0);
    assert.match(stdout, /^examples\/tiny-llama \(local\) · batch 1 · seq 512\n/);
    assert.match(stdout, /\nGPTQ 3-bit g128 +\d+\.\d\d MiB/);
  });

  it("the comparison table's columns add up to each row's peak (the runtime overhead is a column)", () => {
    const { status, stdout } = quantstudio(['estimate', '--model', 'examples/tiny-llama', '--seq', '512']);
    assert.equal(status, 0);
    const lines = stdout.trim().split('\n');
    assert.deepEqual(lines[1]!.trim().split(/ {2,}/), ['method', 'weights', 'KV cache', 'activations', 'overhead', 'peak']);
    const mib = (cell: string): number => {
      const [n, unit] = cell.split(' ');
      return Number(n) * { B: 2 ** -20, KiB: 2 ** -10, MiB: 1, GiB: 2 ** 10 }[unit as 'B' | 'KiB' | 'MiB' | 'GiB'];
    };
    for (const line of lines.slice(2)) {
      const cells = line.trim().split(/ {2,}/);
      assert.equal(cells.length, 6, line);
      const parts = cells
        .slice(1, 5)
        .map(mib)
        .reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(parts - mib(cells[5]!)) <= 0.02, `${line}: parts ${parts.toFixed(3)} MiB`);
    }
  });

  it('fails with a message on stderr for a missing model, a bad config and a bad --batch', () => {
    const missing = quantstudio(['estimate', '--model', './no-such-model', '--json']);
    assert.equal(missing.status, 1);
    assert.equal(missing.stdout, '');
    assert.match(missing.stderr, /no-such-model: model folder not found/);
    const badConfig = join(temp, 'bad.json');
    writeFileSync(badConfig, JSON.stringify({ quant_method: 'gptq', bits: 7 }));
    const bad = quantstudio(['estimate', '--model', 'examples/tiny-llama', '--config', badConfig]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /GPTQ with 7 bits/);
    const usage = quantstudio(['estimate', '--model', 'examples/tiny-llama', '--batch', '0']);
    assert.equal(usage.status, 2);
    assert.match(usage.stderr, /--batch must be a positive integer/);
  });

  it('--target cpu --kv-cache fp16 halves the KV cache; --kv-cache is refused for cuda and when misspelt', () => {
    const cpu = (extra: string[]): { kvCacheBytes: number } => {
      const run = quantstudio(['estimate', '--model', 'examples/tiny-llama', '--target', 'cpu', '--seq', '512', '--json', ...extra]);
      assert.equal(run.status, 0, run.stderr);
      return JSON.parse(run.stdout) as { kvCacheBytes: number };
    };
    const floats = cpu([]).kvCacheBytes;
    assert.ok(floats > 0);
    assert.equal(cpu(['--kv-cache', 'fp16']).kvCacheBytes * 2, floats);
    const cuda = quantstudio(['estimate', '--model', 'examples/tiny-llama', '--kv-cache', 'fp16']);
    assert.equal(cuda.status, 2);
    assert.match(cuda.stderr, /--kv-cache is the CPU engine's option: give it with --target cpu/);
    const misspelt = quantstudio(['estimate', '--model', 'examples/tiny-llama', '--target', 'cpu', '--kv-cache', 'half']);
    assert.equal(misspelt.status, 2);
    assert.match(misspelt.stderr, /--kv-cache must be fp32 or fp16, got 'half'/);
  });

  it('reports an unreachable Hub as offline', () => {
    const { status, stderr } = quantstudio(['estimate', '--model', 'test-org/not-cached']);
    assert.equal(status, 1);
    assert.match(stderr, /test-org\/not-cached: cannot reach http:\/\/127\.0\.0\.1:9/);
  });
});
