// The real shapes test/tools/random-llama.mjs writes random models of (its --tensors listing, nothing written):
// Qwen3-30B-A3B's first two layers name and shape every tensor as the header-only copy of the Hub checkpoint
// (test/fixtures/big-models), Llama-3.2-1B and Qwen3-0.6B name theirs as transformers 5.23 saves their shrunk
// family fixtures (tied embeddings: no lm_head), and the parameter counts are the real models' (Llama-3.2-1B
// 1.24B; Qwen3-0.6B 0.6B of which 0.44B outside the embedding, as its model card states).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { resolveModel } from '../../../native/model';
import { bigModelTensors } from '../../helpers/headerOnlyModel';

const root = join(__dirname, '..', '..', '..', '..');

interface Listing {
  config: Record<string, number | boolean | string | null | object>;
  tensors: Array<[string, number[]]>;
}

function listing(shape: string): Listing {
  const run = spawnSync(process.execPath, [join(root, 'test', 'tools', 'random-llama.mjs'), shape, '--tensors'], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout) as Listing;
}

const count = (l: Listing): number => l.tensors.reduce((sum, [, shape]) => sum + shape.reduce((a, b) => a * b, 1), 0);
const layerName = /^model\.layers\.(\d+)\./;

/** A family fixture's tensor names as transformers 5.23 saved them. */
async function fixtureNames(fixture: string): Promise<string[]> {
  const resolved = await resolveModel(join(root, 'test', 'fixtures', fixture), { env: {} });
  assert.ok(resolved.ok);
  return resolved.model.tensors.map((t) => t.name).sort();
}

test('the Qwen3-30B-A3B shape is the Hub checkpoint cut to 2 layers: 128 experts of 768, router, q/k norms', () => {
  const l = listing('qwen3-30b-a3b-2l');
  const expected = bigModelTensors('qwen3-30b-a3b')
    .filter((t) => Number(layerName.exec(t.name)?.[1] ?? 0) < 2)
    .map((t): [string, number[]] => [t.name, t.shape]);
  const byName = (a: [string, number[]], b: [string, number[]]): number => a[0].localeCompare(b[0]);
  assert.deepEqual([...l.tensors].sort(byName), [...expected].sort(byName));
  assert.equal(l.tensors.length, 2 + 2 * (8 + 1 + 3 * 128) + 1);
  assert.equal(l.config.num_experts, 128);
  assert.equal(l.config.num_experts_per_tok, 8);
  assert.equal(l.config.num_hidden_layers, 2);
  assert.equal(count(l), 1_868_573_184);
});

test('the Llama-3.2-1B shape: 16 layers of 2048 (8192 MLP, 32/8 heads of 64), tied 128256 vocabulary, 1.236B parameters', async () => {
  const l = listing('llama-3.2-1b');
  const layerNames = (await fixtureNames('llama3.2-random')).filter((n) => n.startsWith('model.layers.0.'));
  const ours = l.tensors.map(([n]) => n);
  for (let layer = 0; layer < 16; layer++)
    assert.deepEqual(
      ours.filter((n) => n.startsWith(`model.layers.${layer}.`)).sort(),
      layerNames.map((n) => n.replace('.0.', `.${layer}.`)),
    );
  assert.deepEqual(
    ours.filter((n) => !layerName.test(n)),
    ['model.embed_tokens.weight', 'model.norm.weight'],
  );
  assert.deepEqual(
    Object.fromEntries(
      l.tensors.filter(([n]) => n.startsWith('model.layers.0.self_attn')).map(([n, s]) => [n.slice('model.layers.0.self_attn.'.length), s]),
    ),
    {
      'q_proj.weight': [2048, 2048],
      'k_proj.weight': [512, 2048],
      'v_proj.weight': [512, 2048],
      'o_proj.weight': [2048, 2048],
    },
  );
  assert.deepEqual(l.config.rope_scaling, {
    factor: 32,
    high_freq_factor: 4,
    low_freq_factor: 1,
    original_max_position_embeddings: 8192,
    rope_type: 'llama3',
  });
  assert.equal(count(l), 1_235_814_400);
});

test('the Qwen3-0.6B shape: 28 layers of 1024, head_dim 128 (q 2048 wide), q/k norms, tied 151936 vocabulary', async () => {
  const l = listing('qwen3-0.6b');
  const layerNames = (await fixtureNames('qwen3-random')).filter((n) => n.startsWith('model.layers.0.'));
  const ours = l.tensors.map(([n]) => n);
  assert.equal(l.config.num_hidden_layers, 28);
  for (let layer = 0; layer < 28; layer++)
    assert.deepEqual(
      ours.filter((n) => n.startsWith(`model.layers.${layer}.`)).sort(),
      layerNames.map((n) => n.replace('.0.', `.${layer}.`)),
    );
  const shapes = new Map(l.tensors);
  assert.deepEqual(shapes.get('model.layers.27.self_attn.q_proj.weight'), [2048, 1024]);
  assert.deepEqual(shapes.get('model.layers.27.self_attn.q_norm.weight'), [128]);
  assert.deepEqual(shapes.get('model.embed_tokens.weight'), [151936, 1024]);
  assert.equal(shapes.has('lm_head.weight'), false);
  assert.equal(count(l), 596_049_920);
  assert.equal(count(l) - 151936 * 1024, 440_467_456);
});
