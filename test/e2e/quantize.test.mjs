// "QuantStudio: Quantize Model…" in a real VS Code (code-server 4.100.3, headless chromium): it runs the
// active job file (tiny-llama, GPTQ 4-bit, calibration 8×64, perplexity over 2048 tokens: seconds) in the job
// worker with a notification progress and a status bar item, saves the run and shows the Quantize result
// panel; a second run cancelled from the notification leaves no output behind.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { readLogOutputChannel, runCommand, waitForNotification, webviewFrame } from './codeServer.mjs';
import { openFile } from './editor.mjs';
import { e2eSkipReason, REPO_ROOT } from './prerequisites.mjs';
import { EXTENSION_ID, openSession } from './session.mjs';

const skip = e2eSkipReason();
const FIXTURE = path.join(REPO_ROOT, 'test', 'e2e', 'fixtures', 'quantize-workspace');
const JOB_FILE = 'tiny-llama-gptq.quant.json';
const COMMAND = 'QuantStudio: Quantize Model…';
const MODEL = path.join(REPO_ROOT, 'examples', 'tiny-llama');
let s;
let outFolder;

/** The job file names its model by absolute path: write this checkout's into the workspace copy. */
function pointAtDemoModel(workspace) {
  const file = path.join(workspace, JOB_FILE);
  const job = JSON.parse(fs.readFileSync(file, 'utf8'));
  job.model = MODEL;
  fs.writeFileSync(file, `${JSON.stringify(job, null, 2)}\n`);
  outFolder = path.resolve(workspace, job.output);
}

before(async () => {
  if (!skip) s = await openSession('quantize', { extensionDir: REPO_ROOT }, { fixture: FIXTURE, prepare: pointAtDemoModel });
});
after(async () => {
  await s?.close();
});

const statusItem = () => s.page.locator('.statusbar-item', { hasText: 'Quantizing tiny-llama' });
const number = (text) => Number(text.trim().split(/\s/)[0]);

test('quantizes the active job file and shows the result panel', { skip }, (t) =>
  s.step(t, async () => {
    await openFile(s.page, JOB_FILE);
    await runCommand(s.page, COMMAND);
    const toast = await waitForNotification(s.page, 'Quantizing tiny-llama');
    // the status bar and the notification follow the worker's phases
    const phase = /(perplexity before \d\/8|tokenize|load|calibrate|layer \d\/4|write|done|perplexity after \d\/8)/;
    await s.page.locator('.statusbar-item', { hasText: new RegExp(`Quantizing tiny-llama: ${phase.source}`) }).waitFor({ timeout: 30_000 });
    await toast.filter({ hasText: phase }).waitFor({ timeout: 10_000 });
    await s.shot('01-running');

    const panel = await webviewFrame(s.page, '#ppl-after', 120_000);
    const cell = async (id) => (await panel.locator(`#${id}`).innerText()).trim();
    await s.shot('02-result-panel');

    assert.equal(await cell('output-folder'), outFolder);
    assert.equal(await cell('layers'), '4');
    assert.match(await cell('method'), /^gptq, 4-bit, group 128$/);
    assert.match(await cell('output-size'), /^\d+\.\d\d MiB$/);
    assert.match(await cell('quantize-seconds'), /^\d+\.\d s$/);
    const before = number(await cell('ppl-before'));
    const afterPpl = number(await cell('ppl-after'));
    assert.ok(before > 1 && before < 1000, `perplexity before ${before}`);
    assert.ok(Math.abs(afterPpl - before) / before < 0.1, `perplexity after ${afterPpl} is not within 10% of ${before}`);
    // the cells are rounded to 4 decimals, the delta is computed before rounding
    const delta = number(await cell('ppl-delta'));
    assert.ok(Math.abs(delta - (afterPpl - before)) <= 1.5e-4, `delta ${delta} is not after - before (${afterPpl - before})`);

    for (const f of ['config.json', 'model.safetensors']) assert.ok(fs.existsSync(path.join(outFolder, f)), `${f} missing in ${outFolder}`);
    const runs = path.join(s.workspace, '.quantstudio', 'runs');
    const saved = fs.readdirSync(runs).filter((f) => f.endsWith('-quantize.json'));
    assert.equal(saved.length, 1, `runs folder holds ${JSON.stringify(fs.readdirSync(runs))}`);
    const run = JSON.parse(fs.readFileSync(path.join(runs, saved[0]), 'utf8'));
    assert.equal(run.output.folder, outFolder);
    assert.equal(run.metrics.perplexityAfter.toFixed(4), await cell('ppl-after'));
    assert.equal(await cell('run-file'), path.join(runs, saved[0]));

    await statusItem().first().waitFor({ state: 'detached', timeout: 10_000 });
    const log = await readLogOutputChannel(s.cs, EXTENSION_ID, 'QuantStudio', { expect: 'Run saved as' });
    assert.match(log, /model\.layers\.3: [\d.]+ s, reconstruction error \d\.\d{3}e-\d \(layer output\)/);
    // the pre-flight's figures, before the job started
    assert.match(
      log,
      /Quantizing tiny-llama, predicted: ≈ [\d.]+ MiB peak RSS · ≈ [\d.]+ (s|min) on \d+ threads?; [\d.]+ GiB available \(/,
    );
    // one name for the per-layer figure: the log, the layer table and the summary all say "reconstruction error"
    const layers = panel.locator('[data-testid="layer-table"]');
    assert.equal(
      (await layers.locator('caption').innerText()).trim(),
      "Layers (reconstruction error of each layer's output on the calibration data)",
    );
    assert.equal(await layers.locator('tbody tr').count(), 4);
    assert.equal(
      (await panel.locator('#mean-layer-error').locator('xpath=..').locator('th').innerText()).trim(),
      'Mean reconstruction error',
    );
    await layers.scrollIntoViewIfNeeded();
    await s.shot('03-result-layers');
  }),
);

test('a run cancelled from the notification writes no output', { skip }, (t) =>
  s.step(t, async () => {
    fs.rmSync(outFolder, { recursive: true, force: true });
    await openFile(s.page, JOB_FILE);
    await runCommand(s.page, COMMAND);
    const toast = await waitForNotification(s.page, 'Quantizing tiny-llama');
    await statusItem().first().waitFor({ state: 'visible', timeout: 30_000 });
    await toast.getByRole('button', { name: 'Cancel' }).click();
    await waitForNotification(s.page, 'Quantization cancelled; no output was written.');
    await s.shot('03-cancelled');
    await statusItem().first().waitFor({ state: 'detached', timeout: 10_000 });
    assert.equal(fs.existsSync(outFolder), false, `${outFolder} exists after the cancel`);
    const parent = path.dirname(outFolder);
    const leftovers = fs.existsSync(parent) ? fs.readdirSync(parent).filter((f) => f.startsWith(path.basename(outFolder))) : [];
    assert.deepEqual(leftovers, []);
  }),
);
