// The Generate panel shows the prompt and sampling settings a run recorded in its options; runs saved
// without options fall back to what the panel remembered.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateBody, runSettings } from '../../../client/src/extension/panels/generateView';
import { byTestId, fixtureRun, tableCells } from './panels-html';

test("a run's options give the prompt and settings; the panel's memory fills only what they lack", () => {
  const run = { ...fixtureRun('generate'), options: { prompt: 'The <b>cat</b>', maxTokens: 12, seed: 7, out: '/x' } };
  assert.deepEqual(runSettings(run, { prompt: 'old', temperature: 0.5, seed: 1 }), {
    prompt: 'The <b>cat</b>',
    maxTokens: 12,
    temperature: 0.5,
    topK: undefined,
    topP: undefined,
    seed: 7,
  });
  const html = generateBody(run, undefined);
  assert.match(byTestId(html, 'generate-prompt'), /The &lt;b&gt;cat&lt;\/b&gt;/);
  const cells = tableCells(byTestId(html, 'generate-settings'));
  assert.deepEqual(cells.slice(0, 2), [
    ['Max new tokens', '12'],
    ['Temperature', 'engine default'],
  ]);
});

test('a run without options and no remembered settings says the prompt is not recorded', () => {
  const run = fixtureRun('generate');
  assert.equal(run.options, undefined);
  assert.match(byTestId(generateBody(run, undefined), 'generate-prompt'), /not recorded/);
});

test('tokens/s stands above the generated text, so a long text does not push it out of view', () => {
  const run = { ...fixtureRun('generate'), text: 'word '.repeat(2000) };
  const html = generateBody(run, undefined);
  assert.match(byTestId(html, 'tokens-per-second'), /tokens\/s|—/);
  assert.ok(html.indexOf('data-testid="tokens-per-second"') < html.indexOf('data-testid="generate-text"'));
});
