// GPTQModel 7.7's `dynamic` as the editor and the memory estimate read it (native/model/gptqDynamic.ts) against
// GPTQModel itself (dynamic_reference.py): which regexes compile under PCRE2, and which key decides each module
// of a real module list (Llama-3.1-8B's, from test/fixtures/big-models) — the first match, "-:" keys moved first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

import { referenceVenv, repoRoot, runPython } from './venv.mjs';

const require = createRequire(import.meta.url);
const venv = referenceVenv();
const compiledModel = join(repoRoot, 'out', 'native', 'model', 'index.js');
const built = existsSync(compiledModel) && existsSync(join(repoRoot, 'out', 'test', 'helpers', 'headerOnlyModel.js'));
const skip = venv.skip ?? (built ? false : 'native/model is not built; run `npm run build` first');
if (skip && process.env.CI === 'true') throw new Error(skip);

// Python and PCRE2 spellings the editor translates, what both reject, and what JavaScript alone would misread.
const PATTERNS = [
  '.*mlp.down_proj',
  '(?P<part>model)\\.layers\\.(?P=part)',
  '\\Amodel\\.layers\\.1\\d\\.',
  'lm_head\\Z',
  '(?i)MODEL\\.LAYERS\\.0\\.',
  '[]a]',
  '[^]a]',
  'model.layers.[',
  'a)',
  '(?P<x>a',
  '*mlp',
  'a{2,1}',
  '.*(down|up)_proj$',
];

const CONFIGS = [
  JSON.parse(
    readFileSync(join(repoRoot, 'test', 'fixtures', 'corpus', 'gptqmodel-deepseek-r1-distill-dynamic', 'quantize_config.json'), 'utf8'),
  ).dynamic,
  // A "-:" key written last still comes first; a bare key is positive; the first positive match wins.
  { '.*mlp\\.(down|up)_proj': { bits: 3 }, '+:.*mlp.down_proj': { bits: 8, group_size: 32 }, '-:model\\.layers\\.(0|31)\\.': {} },
  { '^model\\.layers\\.1\\.self_attn\\.q_proj$': { bits: 8 }, '.*self_attn': { group_size: 64 }, 'model.layers.1': { sym: false } },
];

test('dynamic: PCRE2 verdicts and the deciding key per module equal GPTQModel 7.7', { skip }, async () => {
  const { compileDynamicPattern, dynamicRuleFor, dynamicRules } = require(compiledModel);
  const { bigModelTensors } = require(join(repoRoot, 'out', 'test', 'helpers', 'headerOnlyModel.js'));
  const names = bigModelTensors('llama-3.1-8b').map((t) => t.name);
  const modules = [...new Set(names.filter((n) => n.endsWith('.weight')).map((n) => n.slice(0, -'.weight'.length))), 'lm_head'];
  const reply = await runPython(venv.python, 'dynamic_reference.py', { patterns: PATTERNS, configs: CONFIGS, modules });
  assert.deepEqual(
    PATTERNS.map((p) => compileDynamicPattern(p).ok === true),
    reply.compiles,
  );
  CONFIGS.forEach((dynamic, i) => {
    const rules = dynamicRules(dynamic);
    const ours = modules.map((m) => {
      const rule = dynamicRuleFor(rules, m);
      return rule === undefined ? null : rule.skip ? false : rule.overrides;
    });
    assert.deepEqual(ours, reply.decisions[i], `config ${i}`);
  });
});
