// The model pick's Hugging Face cache listing: only snapshots a job can run offline (config.json, every
// safetensors shard, tokenizer.json, each link reaching its blob), named by Hub id and ref.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { after, describe, it } from 'node:test';
import { cachedHubModels } from '../../../client/src/extension/pick/hfCacheModels';

const C1 = '1'.repeat(40);
const C2 = '2'.repeat(40);
const C3 = '3'.repeat(40);
const FP16_CONFIG = JSON.stringify({ architectures: ['LlamaForCausalLM'], model_type: 'llama' });
const GPTQ_CONFIG = JSON.stringify({
  architectures: ['LlamaForCausalLM'],
  model_type: 'llama',
  quantization_config: { quant_method: 'gptq', bits: 4 },
});

describe('cachedHubModels', () => {
  const cache = mkdtempSync(join(tmpdir(), 'qs-hf-cache-'));
  after(() => rmSync(cache, { recursive: true, force: true }));

  /** A snapshot as huggingface_hub writes it: blobs/<name> and a relative link per file; `null` = a link to a missing blob. */
  function snapshot(repo: string, commit: string, files: Record<string, string | null>, refs: Record<string, string> = {}): void {
    const repoDir = join(cache, repo);
    for (const [file, content] of Object.entries(files)) {
      const blob = join(repoDir, 'blobs', `${commit.slice(0, 4)}-${file}`);
      mkdirSync(dirname(blob), { recursive: true });
      if (content !== null) writeFileSync(blob, content);
      const link = join(repoDir, 'snapshots', commit, file);
      mkdirSync(dirname(link), { recursive: true });
      symlinkSync(relative(dirname(link), blob), link);
    }
    for (const [ref, target] of Object.entries(refs)) {
      mkdirSync(dirname(join(repoDir, 'refs', ref)), { recursive: true });
      writeFileSync(join(repoDir, 'refs', ref), target);
    }
  }
  const complete = (config = FP16_CONFIG): Record<string, string> => ({
    'config.json': config,
    'model.safetensors': 'w',
    'tokenizer.json': '{}',
  });

  it('lists complete snapshots by Hub id, main first, other refs and unreferenced commits with @', () => {
    snapshot('models--org--complete', C1, complete(), { main: C1 });
    snapshot('models--org--branches', C1, complete(), { main: C1, 'feature/x': C2 });
    snapshot('models--org--branches', C2, complete());
    snapshot('models--org--branches', C3, complete());
    snapshot('models--org--quantized', C1, complete(GPTQ_CONFIG), { main: C1 });
    snapshot('models--org--no-weights', C1, { 'config.json': FP16_CONFIG, 'tokenizer.json': '{}' }, { main: C1 });
    snapshot('models--org--no-tokenizer', C1, { 'config.json': FP16_CONFIG, 'model.safetensors': 'w' }, { main: C1 });
    snapshot('models--org--dangling', C1, { ...complete(), 'model.safetensors': null }, { main: C1 });
    const index = JSON.stringify({ weight_map: { a: 'model-00001-of-00002.safetensors', b: 'model-00002-of-00002.safetensors' } });
    snapshot(
      'models--org--half-sharded',
      C1,
      {
        'config.json': FP16_CONFIG,
        'tokenizer.json': '{}',
        'model.safetensors.index.json': index,
        'model-00001-of-00002.safetensors': 'w',
      },
      { main: C1 },
    );
    snapshot(
      'models--org--sharded',
      C1,
      {
        'config.json': FP16_CONFIG,
        'tokenizer.json': '{}',
        'model.safetensors.index.json': index,
        'model-00001-of-00002.safetensors': 'w',
        'model-00002-of-00002.safetensors': 'w',
      },
      { main: C1 },
    );
    snapshot('models--org--stale-ref', C1, complete(), { main: C2 });
    snapshot('datasets--org--data', C1, complete(), { main: C1 });
    mkdirSync(join(cache, '.locks'));

    const listed = cachedHubModels(cache).map((m) => [m.ref, m.quantMethod ?? 'fp', relative(cache, m.folder)]);
    assert.deepEqual(listed, [
      ['org/branches', 'fp', `models--org--branches/snapshots/${C1}`],
      ['org/branches@feature/x', 'fp', `models--org--branches/snapshots/${C2}`],
      [`org/branches@${C3}`, 'fp', `models--org--branches/snapshots/${C3}`],
      ['org/complete', 'fp', `models--org--complete/snapshots/${C1}`],
      ['org/quantized', 'gptq', `models--org--quantized/snapshots/${C1}`],
      ['org/sharded', 'fp', `models--org--sharded/snapshots/${C1}`],
      [`org/stale-ref@${C1}`, 'fp', `models--org--stale-ref/snapshots/${C1}`],
    ]);
  });

  it('a cache folder that does not exist lists nothing', () => {
    assert.deepEqual(cachedHubModels(join(cache, 'missing')), []);
  });
});
