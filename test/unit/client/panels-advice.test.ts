// The advisor's panel on the demo model for an L4 serving with vLLM: one row per candidate in rank order, each
// with its basis, a "Write job file" button on every row that has a job to write (not fp16), and the page's one
// nonce-tagged script that turns the button into a message.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { advise, DEFAULT_ADVICE_SEQ, deviceById, humanBytes, resolveModel } from '../../../native/model';
import type { AdviceRequest } from '../../../native/model';
import {
  advicePage,
  adviceTitle,
  EVALUATE_ACTION,
  EVALUATE_COUNT,
  WRITE_ACTION_PREFIX,
} from '../../../client/src/extension/panels/adviceView';
import { EVALUATE_TOKENS, runnablePicks } from '../../../client/src/jobs';
import { byTestId, unescape } from './panels-html';

const root = join(__dirname, '..', '..', '..', '..');

test('the ranked table, each basis, and a write button per runnable row', async () => {
  const resolved = await resolveModel(join(root, 'examples', 'tiny-llama'), {});
  assert.ok(resolved.ok);
  const l4 = deviceById('l4')!;
  const request: AdviceRequest = {
    budgetBytes: l4.memoryBytes,
    budgetLabel: `${l4.label}: ${l4.source}`,
    bandwidthBytesPerSecond: l4.bandwidthBytesPerSecond!,
    target: 'vllm',
    seq: 2048,
  };
  const advice = advise(resolved.model, request);
  assert.ok(advice.ok);
  const html = advicePage({ model: 'tiny-llama', request, rows: advice.value }, { cspSource: 'vscode-resource:' });

  assert.match(html, new RegExp(`<title>${adviceTitle('tiny-llama')}</title>`));
  assert.match(html, /script-src 'nonce-[^']+'/);
  assert.equal(
    unescape(byTestId(html, 'advice-budget')).replace(/<[^>]+>/g, ''),
    `${request.budgetLabel} · ${humanBytes(l4.memoryBytes)} · context 2048 tokens`,
  );
  // without a context asked for, the advisor's default is the one shown
  const { seq: _seq, ...noSeq } = request;
  const defaulted = advicePage({ model: 'tiny-llama', request: noSeq, rows: advice.value }, { cspSource: 'vscode-resource:' });
  assert.match(unescape(byTestId(defaulted, 'advice-budget')), new RegExp(` · context ${DEFAULT_ADVICE_SEQ} tokens<`));
  const table = byTestId(html, 'advice-table');
  const order = [...table.matchAll(/<tr data-testid="advice-([^"]+)">/g)].map((m) => m[1]);
  assert.deepEqual(
    order,
    advice.value.map((a) => a.id),
  );
  for (const a of advice.value) {
    const row = new RegExp(`<tr data-testid="advice-${a.id}">(.*?)</tr>`).exec(table)![1]!;
    assert.equal(row.includes(`data-action="${WRITE_ACTION_PREFIX}${a.id}"`), a.id !== 'fp16', a.id);
    assert.ok(unescape(row).includes(a.basis.memory), a.id);
    assert.ok(unescape(row).includes(a.basis.quality), a.id);
    assert.ok(unescape(row).includes(a.basis.deployment!), a.id);
    assert.ok(unescape(row).includes(a.why), a.id);
  }

  // "Evaluate" names the first runnable picks; once they ran, their perplexities follow, the model as it is first
  const picks = runnablePicks(advice.value).slice(0, EVALUATE_COUNT);
  assert.equal(picks.length, 3);
  const button = byTestId(html, 'action-evaluate');
  assert.match(button, new RegExp(`data-action="${EVALUATE_ACTION}"`));
  assert.doesNotMatch(html, /data-testid="advice-evaluated"/);
  const evaluated = [{ id: 'fp16', perplexity: 66.3218 }, ...picks.map((p, i) => ({ id: p.id, perplexity: 66.33 + i }))];
  const after = advicePage({ model: 'tiny-llama', request, rows: advice.value, evaluated }, { cspSource: 'vscode-resource:' });
  const cells = [
    ...byTestId(after, 'advice-evaluated').matchAll(/<tr><th scope="row">([^<]*)<\/th><td class="number">([^<]*)<\/td><\/tr>/g),
  ].map((m) => [unescape(m[1]!), m[2]]);
  assert.deepEqual(cells, [['the model as it is', '66.3218'], ...picks.map((p, i) => [p.label, (66.33 + i).toFixed(4)])]);
  assert.match(unescape(byTestId(after, 'advice-evaluated')), new RegExp(`over ${EVALUATE_TOKENS} WikiText-2 test tokens`));
});
