// A checkpoint of the demo model tuned by learned rounding (signRound): every layer's loss below round-to-nearest's,
// the same bytes run after run, and a lower perplexity than round-to-nearest on the same grid.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';

import { wikitext2TestPath } from '../../native/lib/perplexity';
import { quantizeModel } from '../../native/lib/quantize';
import { openModel } from '../../native/lib/runtime';
import { TextTokenizer } from '../../native/lib/tokenizer';
import { folderHash, removeTempDirs, tempDir } from './pipeline-fixtures';
import { tinyLlamaDir } from './runtime-fixtures';

after(removeTempDirs);

const tuned = { quant_method: 'gptq', bits: 3, group_size: 128, sym: false, desc_act: false, checkpoint_format: 'gptq_v2' };
const calibration = { nsamples: 16, seqlen: 128 };
const signRound = { iters: 40, batchSize: 4 };

test('the demo model tuned by signRound: each layer beats round-to-nearest, the same bytes twice, and a lower perplexity', async () => {
  const outs = [0, 1].map(() => path.join(tempDir('sign-round'), 'out'));
  const results = [];
  for (const out of outs) results.push(await quantizeModel({ model: tinyLlamaDir, config: tuned, out, calibration, signRound }));
  for (const layer of results[0]!.layers) {
    const s = layer.signRound!;
    assert.ok(s.bestLoss < 0.8 * s.startLoss, `${layer.name}: loss ${s.startLoss} → ${s.bestLoss}`);
    assert.ok(s.bestIteration > 0 && s.bestIteration < signRound.iters);
  }
  assert.equal(folderHash(outs[0]!), folderHash(outs[1]!), 'the same checkpoint run after run');
  const written = JSON.parse(fs.readFileSync(path.join(outs[0]!, 'config.json'), 'utf8')).quantization_config;
  assert.equal(written.quant_method, 'gptq');
  assert.equal(written.checkpoint_format, 'gptq_v2');

  const rtn = path.join(tempDir('sign-round-rtn'), 'out');
  await quantizeModel({ model: tinyLlamaDir, config: tuned, algorithm: 'rtn', out: rtn });
  const ids = TextTokenizer.load(tinyLlamaDir)
    .encode(fs.readFileSync(wikitext2TestPath(), 'utf8'), { addSpecialTokens: false })
    .slice(0, 16384);
  const perplexity = async (folder: string) => (await openModel(folder).perplexity(ids, { seq: 256 })).perplexity;
  const [rounded, learned] = [await perplexity(rtn), await perplexity(outs[0]!)];
  assert.ok(learned < rounded - 0.5, `signRound ${learned} against round-to-nearest ${rounded}`);
});
