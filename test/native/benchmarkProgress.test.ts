// The benchmark's overall progress: each variant owns an equal share of the job, split over its phases
// (the quantize worker's phases, then load, measure, perplexity), so the editor's bar moves steadily across repeated phases.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { overallProgress } from '../../native/worker/handlers/benchmark';

test('variant shares and phase spans give the whole job a fraction from 0 to 1', () => {
  // quantizing a config variant: the quantize worker's own phases
  assert.equal(overallProgress(0, 2, 'quantize', 'tokenize', 0, 1), 0);
  assert.equal(overallProgress(0, 2, 'quantize', 'layer', 2, 4), 0.105);
  // the quantize worker's once-a-second tick between layer events counts layers the same way
  assert.equal(overallProgress(0, 2, 'quantize', 'quantize', 2, 4), 0.105);
  assert.equal(overallProgress(0, 2, 'quantize', 'done', 1, 1), 0.2);
  // measuring it: "load <variant>", "measure <variant> bs<N>", "perplexity <variant>"
  assert.equal(overallProgress(0, 2, 'measure', 'load gptq 4-bit g128', 1, 1), 0.225);
  assert.equal(overallProgress(0, 2, 'measure', 'measure gptq 4-bit g128 bs16', 2, 4), 0.325);
  assert.equal(overallProgress(1, 2, 'measure', 'perplexity nf4', 8, 8), 1);
  // a phase it does not know counts as the start of its variant
  assert.equal(overallProgress(1, 2, 'measure', 'tokenize', 1, 1), 0.5);
});
