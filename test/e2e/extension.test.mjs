// The extension in a real VS Code (code-server 4.100.3 = VS Code 1.100.3, headless chromium):
// it activates on a workspace with quantization configs, starts its language server (and restarts it
// after a crash), and its commands run from the command palette.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { readLogOutputChannel, readProblems, runCommand, waitForNotification } from './codeServer.mjs';
import { e2eSkipReason, REPO_ROOT } from './prerequisites.mjs';
import { EXTENSION_ID, openSession } from './session.mjs';

const skip = e2eSkipReason();
const { files } = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'test', 'e2e', 'fixtures', 'expectations.json'), 'utf8'));
const count = (severity) => files.flatMap((f) => f.diagnostics).filter((d) => d.severity === severity).length;
const filesWithProblems = files.filter((f) => f.diagnostics.length > 0).length;
let s;

before(async () => {
  if (!skip) s = await openSession('extension', { extensionDir: REPO_ROOT });
});
after(async () => {
  await s?.close();
});

test('activates and starts the language server', { skip }, async () => {
  const log = await readLogOutputChannel(s.cs, EXTENSION_ID, 'QuantStudio', { expect: 'Language server started.' });
  assert.match(log, /QuantStudio 0\.1\.0 activated \(VS Code 1\.100\.3, server-distro\)/);
  assert.doesNotMatch(log, /failed to start/);
  await s.shot('01-activated');
});

test('"QuantStudio: Show Language Server Log" shows the output channel', { skip }, async () => {
  await runCommand(s.page, 'QuantStudio: Show Language Server Log');
  const output = s.page.locator('.part.panel .output-view, .part.panel .editor-instance').first();
  await output.waitFor({ state: 'visible' });
  await s.page.locator('.part.panel .monaco-editor .view-lines', { hasText: 'Language server started.' }).waitFor();
  await s.shot('02-server-log');
});

/** Pids of the language servers this code-server started (its process group, running the extension's dist/server.js). */
function languageServerPids() {
  const server = `${path.sep}dist${path.sep}server.js`;
  return fs
    .readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((pid) => {
      try {
        const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        const pgrp = Number(
          fs
            .readFileSync(`/proc/${pid}/stat`, 'utf8')
            .replace(/^.*\) /, '')
            .split(' ')[2],
        );
        return pgrp === s.cs.pid && cmdline.some((arg) => arg.endsWith(server));
      } catch {
        return false; // the process ended while we looked
      }
    })
    .map(Number);
}

test('a crashed language server is restarted by the client', { skip }, async () => {
  const [pid, ...others] = languageServerPids();
  assert.ok(pid, 'no language server process found');
  assert.deepEqual(others, []);
  process.kill(pid, 'SIGKILL');
  await readLogOutputChannel(s.cs, EXTENSION_ID, 'QuantStudio', { expect: 'restarting it (1 of 4 restarts allowed in 3 minutes)' });
  const deadline = Date.now() + 15_000;
  let restarted = [];
  while ((restarted = languageServerPids()).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  assert.equal(restarted.length, 1, 'the language server did not come back');
  assert.notEqual(restarted[0], pid);
});

test('"QuantStudio: Validate Quantization Configs in Workspace" diagnoses every config and counts the problems', { skip }, async () => {
  const summary = `QuantStudio: checked ${files.length} config file(s): ${count('error')} error(s), ${count('warning')} warning(s) in ${filesWithProblems} file(s).`;
  await runCommand(s.page, 'QuantStudio: Validate Quantization Configs in Workspace');
  const toast = await waitForNotification(s.page, summary);
  await s.shot('03-validate-workspace');
  await readLogOutputChannel(s.cs, EXTENSION_ID, 'QuantStudio', { expect: summary });
  assert.ok((await toast.innerText()).includes(summary));
  // the files were never shown in an editor, yet the Problems view lists their diagnostics
  const rows = (await readProblems(s.page, { expect: 'quantstudio' })).map((r) => r.replace(/\s+/g, ' ').trim());
  await s.shot('04-validate-workspace-problems');
  for (const d of files.flatMap((f) => f.diagnostics)) {
    assert.ok(
      rows.some((r) => r.startsWith(d.message) && r.endsWith(`[Ln ${d.line}, Col ${d.column}]`)),
      `no row for "${d.message}" in ${JSON.stringify(rows)}`,
    );
  }
});
