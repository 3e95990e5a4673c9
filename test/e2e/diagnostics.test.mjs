// What a user sees in a real VS Code (code-server 4.100.3 = VS Code 1.100.3, headless chromium) when
// opening the quantization configs of fixtures/workspace: the exact rows of the Problems view, schema
// docs on hover, and a quick fix (through "Quick Fix...") that edits the file and clears the problem.
// The expected rows are data (fixtures/expectations.json), shared with the VS Code desktop suite.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runCommand } from './codeServer.mjs';
import { applyQuickFix, editorText, hoverAt, openFile, openQuickFixes } from './editor.mjs';
import { e2eSkipReason, REPO_ROOT } from './prerequisites.mjs';
import { openSession } from './session.mjs';

const skip = e2eSkipReason();
const { files } = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'test', 'e2e', 'fixtures', 'expectations.json'), 'utf8'));
let s;

before(async () => {
  if (!skip) s = await openSession('diagnostics', { extensionDir: REPO_ROOT });
});
after(async () => {
  await s?.close();
});

/** A Problems row as VS Code 1.100 renders it (innerText): "<message> <source> <code> [Ln <line>, Col <column>]". */
const rowText = (d) => `${d.message} quantstudio ${d.code} [Ln ${d.line}, Col ${d.column}]`;
const normalise = (text) => text.replace(/\s+/g, ' ').trim();

/** Our rows in the Problems view, once `until` holds for them (diagnostics arrive after the file opens). */
async function ourProblemRows(until, timeout = 20_000) {
  await runCommand(s.page, 'View: Focus Problems');
  await s.page.locator('.markers-panel').waitFor({ state: 'visible' });
  const deadline = Date.now() + timeout;
  for (;;) {
    const rows = (await s.page.locator('.markers-panel .monaco-list-row').allInnerTexts()).map(normalise);
    const ours = rows.filter((r) => r.includes(' quantstudio '));
    if (until(ours) || Date.now() > deadline) return { rows, ours };
    await s.page.waitForTimeout(200);
  }
}

const slug = (p) => p.replace(/[^\w]+/g, '-');

for (const file of files) {
  const expected = file.diagnostics.map(rowText);

  test(`${file.path}: the Problems view shows exactly the expected rows`, { skip }, (t) =>
    s.step(t, async () => {
      await openFile(s.page, file.path);
      const { rows, ours } = await ourProblemRows((r) => r.length >= expected.length && r.length > 0);
      await s.shot(`${slug(file.path)}-1-problems`);
      assert.deepEqual(ours, expected, `all Problems rows: ${JSON.stringify(rows, null, 1)}`);
      // the file's own row names it and counts its problems
      const base = path.basename(file.path);
      assert.ok(
        rows.some((r) => r.startsWith(base) && r.endsWith(` ${expected.length}`)),
        `no file row "${base} ... ${expected.length}" in ${JSON.stringify(rows)}`,
      );
    }),
  );

  if (file.hover) {
    test(`${file.path}: hover at ${file.hover.line}:${file.hover.column} shows the schema doc`, { skip }, (t) =>
      s.step(t, async () => {
        await openFile(s.page, file.path);
        const text = await hoverAt(s.page, file.hover.line, file.hover.column, file.hover.contains);
        await s.shot(`${slug(file.path)}-2-hover`);
        assert.ok(normalise(text).includes(file.hover.contains), text);
        await s.page.keyboard.press('Escape');
      }),
    );
  }

  if (file.quickFix) {
    const fix = file.quickFix;
    test(`${file.path}: the quick fix "${fix.title}" edits the file and clears the problem`, { skip }, (t) =>
      s.step(t, async () => {
        await openFile(s.page, file.path);
        const titles = await openQuickFixes(s.page, fix.line, fix.column, fix.title);
        await s.shot(`${slug(file.path)}-3-quick-fix-menu`);
        assert.ok(
          titles.some((title) => normalise(title) === fix.title),
          JSON.stringify(titles),
        );
        await applyQuickFix(s.page, fix.title);
        const { ours } = await ourProblemRows((r) => !r.some((row) => row.endsWith(`[Ln ${fix.line}, Col ${fix.column}]`)));
        await s.shot(`${slug(file.path)}-4-fixed`);
        assert.deepEqual(
          ours.filter((row) => expected.includes(row) && row.endsWith(`[Ln ${fix.line}, Col ${fix.column}]`)),
          [],
        );
        assert.ok((await editorText(s.page)).split('\n').includes(fix.lineAfter), await editorText(s.page));
      }),
    );
  }
}
