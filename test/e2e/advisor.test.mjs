// The advisor in a real VS Code: "QuantStudio: Recommend a Quantization…" on the demo model for an NVIDIA L4 with
// vLLM as the serving target shows the ranking the advisor computes (native/model/advisor.ts, the same call the
// command makes), and "Write job file" on the first row writes that row's job file into the workspace and opens it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { runCommand, webviewFrame } from './codeServer.mjs';
import { e2eSkipReason, REPO_ROOT } from './prerequisites.mjs';
import { openSession } from './session.mjs';

const MODEL_LIB = path.join(REPO_ROOT, 'out', 'native', 'model', 'index.js');
const skip = e2eSkipReason() || (!fs.existsSync(MODEL_LIB) && `e2e skipped: ${MODEL_LIB} is missing: run \`npm run build\``);
const DEMO = path.join(REPO_ROOT, 'examples', 'tiny-llama');
const DEVICE = 'l4';
let s;

before(async () => {
  if (skip) return;
  s = await openSession(
    'advisor',
    { extensionDir: REPO_ROOT },
    { fixture: path.join(REPO_ROOT, 'test', 'e2e', 'fixtures', 'jobs-workspace') },
  );
});
after(async () => {
  await s?.close();
});

async function pick(text) {
  const row = s.page.locator('.quick-input-widget .monaco-list-row', { hasText: text }).first();
  await row.waitFor({ state: 'visible', timeout: 30_000 });
  await row.click();
}

async function expectedRanking() {
  const model = createRequire(import.meta.url)(MODEL_LIB);
  const resolved = await model.resolveModel(DEMO, {});
  assert.ok(resolved.ok);
  const device = model.deviceById(DEVICE);
  const advice = model.advise(resolved.model, {
    budgetBytes: device.memoryBytes,
    budgetLabel: device.label,
    bandwidthBytesPerSecond: device.bandwidthBytesPerSecond,
    target: 'vllm',
  });
  assert.ok(advice.ok);
  return { device, rows: advice.value };
}

test('Recommend a Quantization ranks the demo model for an L4 and writes the first pick as a job file', { skip }, (t) =>
  s.step(t, async () => {
    const { device, rows } = await expectedRanking();
    await runCommand(s.page, 'QuantStudio: Recommend a Quantization…');
    await pick('tiny-llama');
    await pick(device.label);
    await pick('vllm');

    const panel = await webviewFrame(s.page, '[data-testid="advice-table"]', 60_000);
    const shown = await panel.locator('[data-testid="advice-table"] tbody tr').evaluateAll((trs) => trs.map((tr) => tr.dataset.testid));
    assert.deepEqual(
      shown,
      rows.map((a) => `advice-${a.id}`),
    );
    await s.shot('01-advice-panel');

    const first = rows[0];
    const jobFile = path.join(s.workspace, `tiny-llama-${first.id}.quant.json`);
    assert.ok(!fs.existsSync(jobFile));
    await panel.locator(`[data-testid="write-${first.id}"]`).click();
    const deadline = Date.now() + 30_000;
    while (!fs.existsSync(jobFile)) {
      if (Date.now() > deadline) throw new Error(`${jobFile} was not written`);
      await s.page.waitForTimeout(250);
    }
    const job = JSON.parse(fs.readFileSync(jobFile, 'utf8'));
    // the demo model as the installed extension ships it
    const model = path.resolve(path.dirname(jobFile), job.model);
    assert.ok(model.endsWith(path.join('', 'examples', 'tiny-llama')) && fs.existsSync(path.join(model, 'config.json')), model);
    assert.deepEqual(job.quantization_config, first.row.config);
    await s.page
      .locator('.tab', { hasText: path.basename(jobFile) })
      .first()
      .waitFor({ timeout: 30_000 });
    await s.shot('02-job-file-written');
  }),
);
