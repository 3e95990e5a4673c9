// The VS Code API suite of test/electron (diagnostics, hover, code actions through the vscode API),
// run inside code-server's extension host instead of a downloaded VS Code desktop: the workbench is
// opened with the extensionDevelopmentPath/extensionTestsPath payload, and the suite's results are read
// from the browser console, where VS Code forwards the extension host's console output.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { launchBrowser, startCodeServer } from './codeServer.mjs';
import { e2eSkipReason, REPO_ROOT } from './prerequisites.mjs';
import { SCREENSHOTS } from './session.mjs';

const skip = e2eSkipReason();
const SUITE = path.join(REPO_ROOT, 'out', 'test', 'electron', 'suite', 'index.js');
const SUMMARY = /quantstudio-suite: (\d+) passed, (\d+) failed/;
let cs, browser, workspace;
const results = []; // { name, ok, detail }
let summary;

before(async () => {
  if (skip) return;
  // test/electron is its own TS project (not in `tsc -b`: npm run test:electron builds it for desktop)
  execFileSync(
    process.execPath,
    [path.join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(REPO_ROOT, 'test', 'electron')],
    { cwd: REPO_ROOT, stdio: 'pipe' },
  );
  workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'qs-e2e-api-'));
  fs.cpSync(path.join(REPO_ROOT, 'test', 'e2e', 'fixtures', 'workspace'), workspace, { recursive: true });
  cs = await startCodeServer({ workspace });
  browser = await launchBrowser();
  const page = await (await browser.newContext({ viewport: { width: 1400, height: 900 } })).newPage();
  const done = new Promise((resolve) => {
    page.on('console', (message) => {
      // the extension host's lines arrive as "%c INFO color: ... ok - name" / "%c  ERR ... not ok - name\n<stack>"
      const text = message.text().replace(/^%c\s+\w+\s+color:\s*\S+\s*/, '');
      const m = /^(not ok|ok) - (.*)$/m.exec(text);
      if (m) results.push({ name: m[2], ok: m[1] === 'ok', detail: text });
      const s = SUMMARY.exec(text);
      if (s) resolve((summary = { passed: Number(s[1]), failed: Number(s[2]) }));
    });
  });
  const authority = `127.0.0.1:${cs.port}`;
  const payload = [
    ['extensionDevelopmentPath', `vscode-remote://${authority}${REPO_ROOT}`],
    ['extensionTestsPath', `vscode-remote://${authority}${SUITE}`],
  ];
  await page.goto(`${cs.workbenchUrl}&payload=${encodeURIComponent(JSON.stringify(payload))}`);
  let timer;
  await Promise.race([
    done,
    new Promise((resolve) => {
      timer = setTimeout(resolve, 120_000);
    }),
  ]);
  clearTimeout(timer); // a pending timer would keep this test process alive
  fs.mkdirSync(path.join(SCREENSHOTS, 'api'), { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, 'api', '01-after-suite.png') });
});

after(async () => {
  await browser?.close();
  await cs?.stop();
  if (workspace) fs.rmSync(workspace, { recursive: true, force: true });
  if (cs) fs.rmSync(cs.tmpDir, { recursive: true, force: true });
});

test('the test/electron suite runs to the end in the extension host', { skip }, () => {
  assert.ok(summary, `no "${SUMMARY.source}" line within 120 s; results so far: ${JSON.stringify(results.map((r) => r.name))}`);
  assert.equal(results.length, summary.passed + summary.failed);
});

test('every scenario of the test/electron suite passes', { skip }, async (t) => {
  for (const r of results) {
    await t.test(r.name, () => assert.ok(r.ok, r.detail));
  }
  assert.deepEqual(
    results.filter((r) => !r.ok).map((r) => r.name),
    [],
  );
});
