// One answer per question in config files: VS Code's own JSON language features and QuantStudio's language
// server must not both answer. The server answers hovers, completions and schema checks (the extension
// contributes no jsonValidation schemas); JSON syntax is VS Code's in 'json' documents (the server's syntax
// findings are kept for the CLI and other editors). Counted in the real editor: Problems rows at the syntax
// error, hover sections for a key, and completion items for a key.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runCommand } from './codeServer.mjs';
import { goTo, hoverAt, openFile } from './editor.mjs';
import { e2eSkipReason, REPO_ROOT } from './prerequisites.mjs';
import { openSession } from './session.mjs';

const skip = e2eSkipReason();
let s;

// line 6: a comma missing after "bits": 5 (the error is reported where "group_size" starts); bits 5 is the server's to say
const CONFIG = `{
  "model_type": "llama",
  "quantization_config": {
    "quant_method": "gptq",
    "bits": 5
    "group_size": 128,
    "desc_act": false
  }
}
`;
// line 7: an indented empty line where a key is typed
const JOB = `{
  "model": "../llama-bnb",
  "quantization_config": {
    "quant_method": "gptq",
    "bits": 4,
    "group_size": 128,
${'    '}
  }
}
`;

before(async () => {
  if (skip) return;
  s = await openSession(
    'one-source',
    { extensionDir: REPO_ROOT },
    {
      prepare: (workspace) => {
        fs.mkdirSync(path.join(workspace, 'syntax'));
        fs.writeFileSync(path.join(workspace, 'syntax', 'config.json'), CONFIG);
        fs.writeFileSync(path.join(workspace, 'syntax', 'gptq.quant.json'), JOB);
      },
    },
  );
});
after(async () => {
  await s?.close();
});

const normalise = (text) => text.replace(/\s+/g, ' ').trim();

async function problemRows(until, timeout = 20_000) {
  await runCommand(s.page, 'View: Focus Problems');
  await s.page.locator('.markers-panel').waitFor({ state: 'visible' });
  const deadline = Date.now() + timeout;
  for (;;) {
    const rows = (await s.page.locator('.markers-panel .monaco-list-row').allInnerTexts()).map(normalise);
    if (until(rows) || Date.now() > deadline) return rows;
    await s.page.waitForTimeout(200);
  }
}

test("config.json: one Problems row for a syntax error, VS Code's own; the server's rule findings still show", { skip }, (t) =>
  s.step(t, async () => {
    await openFile(s.page, 'syntax/config.json');
    const rows = await problemRows(
      (r) => r.some((row) => row.includes(' quantstudio gptq/bits ')) && r.some((row) => row.endsWith('[Ln 6, Col 5]')),
    );
    await s.page.waitForTimeout(1500); // a second source would publish by now
    const settled = await problemRows(() => true);
    await s.shot('config-json-problems');
    const atError = settled.filter((r) => r.endsWith('[Ln 6, Col 5]'));
    assert.deepEqual(atError, ['Expected comma json 514 [Ln 6, Col 5]'], JSON.stringify(settled, null, 1));
    assert.ok(
      rows.some((r) => r.includes(' quantstudio gptq/bits ') && r.endsWith('[Ln 5, Col 13]')),
      JSON.stringify(rows, null, 1),
    );
  }),
);

const BITS_DOC = 'Number of bits to quantize weights to: 2, 3, 4 or 8.';

test('config.json: the hover on a key has its doc once', { skip }, (t) =>
  s.step(t, async () => {
    await openFile(s.page, 'syntax/config.json');
    await hoverAt(s.page, 5, 8, BITS_DOC);
    await s.page.waitForTimeout(1500); // a second provider's part arrives later
    const texts = await s.page.locator('.monaco-hover:not(.hidden) .hover-row').allInnerTexts();
    await s.shot('config-json-hover');
    assert.equal(texts.filter((text) => text.includes(BITS_DOC)).length, 1, JSON.stringify(texts, null, 1));
    await s.page.keyboard.press('Escape');
  }),
);

test('a job file: each key is offered once in the completion list', { skip }, (t) =>
  s.step(t, async () => {
    await openFile(s.page, 'syntax/gptq.quant.json');
    await goTo(s.page, 7, 5);
    await s.page.keyboard.type('"desc');
    await runCommand(s.page, 'Trigger Suggest');
    const rows = s.page.locator('.suggest-widget .monaco-list-row');
    await rows.first().waitFor({ state: 'visible' });
    await s.page.waitForTimeout(1500); // a second provider's items arrive later
    const labels = (await rows.allInnerTexts()).map(normalise);
    await s.shot('job-file-completion');
    assert.equal(labels.filter((l) => l.startsWith('desc_act')).length, 1, JSON.stringify(labels, null, 1));
    await s.page.keyboard.press('Escape');
  }),
);
