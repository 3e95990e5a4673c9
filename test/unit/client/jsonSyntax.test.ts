// Which of the server's findings the language client leaves to VS Code's JSON support (checked in the real
// editor by test/e2e/oneSource.test.mjs): syntax everywhere, comments and trailing commas only in 'json',
// where VS Code reports them as errors; in 'jsonc' they are allowed, but Python's json.load rejects them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reportedByEditor } from '../../../client/src/extension/jsonSyntax';

test("JSON syntax is the editor's; comments and trailing commas only where the editor flags them", () => {
  assert.deepEqual(
    ['json/syntax', 'json/comment', 'json/trailing-comma', 'common/duplicate-key', 'gptq/bits'].map((c) => reportedByEditor(c, 'json')),
    [true, true, true, false, false],
  );
  assert.deepEqual(
    ['json/syntax', 'json/comment', 'json/trailing-comma'].map((c) => reportedByEditor(c, 'jsonc')),
    [true, false, false],
  );
  assert.equal(reportedByEditor('json/syntax', 'python'), false);
  assert.equal(reportedByEditor('json/syntax', undefined), false, 'a document the editor has not opened keeps every finding');
});
