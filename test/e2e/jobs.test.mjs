// Benchmark, Generate and the Runs in a real VS Code (code-server 4.100.3, headless chromium): the job file's
// "Benchmark" code lens runs the fp16 baseline, the file's GPTQ config and an NF4 variant at batch 1 and 4 and
// shows the table and charts; "Generate…" streams text into its panel; the Runs view lists both runs and
// "Compare Runs…" puts them side by side. Screenshots of each panel are saved under screenshots/jobs/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runCommand, waitForNotification, webviewFrame } from './codeServer.mjs';
import { openFile } from './editor.mjs';
import { e2eSkipReason, REPO_ROOT } from './prerequisites.mjs';
import { openSession, SCREENSHOTS } from './session.mjs';

const skip = e2eSkipReason();
const FIXTURE = path.join(REPO_ROOT, 'test', 'e2e', 'fixtures', 'jobs-workspace');
const JOB_FILE = 'tiny-llama-benchmark.quant.json';
const MODEL = path.join(REPO_ROOT, 'examples', 'tiny-llama');
const PROMPT = 'The history of the city';
const MAX_TOKENS = 24;
let s;

before(async () => {
  if (skip) return;
  s = await openSession(
    'jobs',
    { extensionDir: REPO_ROOT },
    {
      fixture: FIXTURE,
      prepare: (workspace) => {
        const file = path.join(workspace, JOB_FILE);
        const job = JSON.parse(fs.readFileSync(file, 'utf8'));
        job.model = MODEL;
        fs.writeFileSync(file, `${JSON.stringify(job, null, 2)}\n`);
      },
    },
  );
});
after(async () => {
  await s?.close();
});

const runsFolder = () => path.join(s.workspace, '.quantstudio', 'runs');
const savedRuns = (kind) => (fs.existsSync(runsFolder()) ? fs.readdirSync(runsFolder()).filter((f) => f.endsWith(`-${kind}.json`)) : []);
const readRun = (file) => JSON.parse(fs.readFileSync(path.join(runsFolder(), file), 'utf8'));
/** A picture of one element of a webview (a chart, a table) beside the workbench screenshots. */
const elementShot = (locator, file) => locator.screenshot({ path: path.join(SCREENSHOTS, 'jobs', `${file}.png`) });
const cellTexts = (locator) =>
  locator.evaluateAll((rows) => rows.map((row) => [...row.querySelectorAll('th, td')].map((c) => c.textContent.trim())));

test('the Benchmark lens runs the job file and shows the table and the charts', { skip }, (t) =>
  s.step(t, async () => {
    await openFile(s.page, JOB_FILE);
    const lens = s.page.locator('.codelens-decoration a', { hasText: 'Benchmark' }).first();
    await lens.waitFor({ timeout: 30_000 });
    await lens.click();
    await waitForNotification(s.page, 'Benchmarking tiny-llama');
    const panel = await webviewFrame(s.page, '[data-testid="benchmark-table"]', 180_000);
    await s.shot('01-benchmark-panel');

    const [file] = savedRuns('benchmark');
    assert.ok(file, 'no benchmark run saved');
    const run = readRun(file);
    // baseline, the file's GPTQ config and its NF4 variant; forward + generate rows at batch 1 and 4 each
    assert.deepEqual([...new Set(run.rows.map((r) => r.variant))], ['fp16', 'gptq 4-bit g128', 'nf4']);
    assert.equal(run.rows.length, 12);
    const rows = await cellTexts(panel.locator('[data-testid="benchmark-table"] tbody tr'));
    assert.equal(rows.length, run.rows.length);
    // every saved row appears in the table, in order, with its variant, phase and batch
    run.rows.forEach((r, i) => {
      for (const value of [r.variant, r.phase, String(r.batch)])
        assert.ok(rows[i].includes(value), `row ${i} ${JSON.stringify(rows[i])} lacks ${value}`);
    });
    // each latency and throughput: the median of 3 timed runs after a warm-up, the runs' range on a second line
    run.rows.forEach((r, i) => {
      assert.equal(r.runs, 3);
      const [fast, slow] = r.perTokenLatencyMsRange;
      assert.ok(
        rows[i].some((c) => c === `${r.perTokenLatencyMs.toFixed(2)}${fast.toFixed(2)}–${slow.toFixed(2)}`),
        `row ${i} ${JSON.stringify(rows[i])}`,
      );
    });
    // the table fits the panel: the page never scrolls sideways (a table wider than the panel scrolls in its own box)
    const table = panel.locator('[data-testid="benchmark-table"]');
    const widths = await table.evaluate((el) => ({
      page: document.documentElement.scrollWidth,
      view: document.documentElement.clientWidth,
      table: el.scrollWidth,
    }));
    assert.ok(widths.page <= widths.view, JSON.stringify(widths));
    assert.ok(widths.table <= widths.view, `the table is wider than the panel: ${JSON.stringify(widths)}`);
    await elementShot(table, '02-benchmark-table');
    assert.equal(run.rows.find((r) => r.variant === 'fp16').perplexityDelta, 0);
    assert.ok(run.rows.find((r) => r.variant === 'gptq 4-bit g128').perplexityDelta > 0);

    // latency, throughput and memory: a chart per measurement (forward 64, generate 16+16), a bar per variant ×
    // batch size in each; perplexity: a bar per variant
    const bars = { 'chart-latency': 12, 'chart-throughput': 12, 'chart-memory': 12, 'chart-perplexity': 3 };
    for (const [id, count] of Object.entries(bars)) {
      const figure = panel.locator(`[data-testid="${id}"]`).first();
      await figure.scrollIntoViewIfNeeded();
      assert.equal(await figure.locator('svg[role="img"]').count(), id === 'chart-perplexity' ? 1 : 2, id);
      assert.equal(await figure.locator('rect.bar').count(), count, id);
      await elementShot(figure, `02-${id}`);
    }
  }),
);

test('Generate… streams the text into its panel and saves the run', { skip }, (t) =>
  s.step(t, async () => {
    await runCommand(s.page, 'QuantStudio: Generate…');
    const row = s.page.locator('.quick-input-widget .monaco-list-row', { hasText: 'tiny-llama' }).first();
    await row.waitFor({ timeout: 30_000 });
    await row.click();
    const input = s.page.locator('.quick-input-widget input');
    await s.page.locator('.quick-input-widget', { hasText: 'The prompt the model continues' }).waitFor();
    await input.fill(PROMPT);
    await s.page.keyboard.press('Enter');
    await s.page.locator('.quick-input-widget', { hasText: 'Tokens to generate at most' }).waitFor();
    await input.fill(String(MAX_TOKENS));
    await s.page.keyboard.press('Enter');

    const deadline = Date.now() + 120_000;
    while (savedRuns('generate').length === 0) {
      if (Date.now() > deadline) throw new Error('no generate run saved');
      await s.page.waitForTimeout(250);
    }
    const run = readRun(savedRuns('generate')[0]);
    assert.equal(run.options.prompt, PROMPT);
    assert.ok(run.metrics.tokens > 0 && run.metrics.tokens <= MAX_TOKENS, `${run.metrics.tokens} tokens`);
    const panel = await webviewFrame(s.page, '[data-testid="generate-text"]', 30_000);
    const count = panel.locator('[data-testid="token-count"]');
    await panel.locator('[data-testid="token-count"]', { hasText: new RegExp(`^${run.metrics.tokens}$`) }).waitFor({ timeout: 15_000 });
    assert.equal((await count.innerText()).trim(), String(run.metrics.tokens));
    assert.equal(await panel.locator('[data-testid="generate-text"]').innerText(), run.text);
    assert.match(await panel.locator('[data-testid="generate-prompt"]').innerText(), new RegExp(PROMPT));
    await s.shot('03-generate-panel');
  }),
);

test('the Runs view lists both runs and Compare Runs… shows them side by side', { skip }, (t) =>
  s.step(t, async () => {
    await s.page.locator('.activitybar .action-item a[aria-label="QuantStudio"]').first().click();
    for (const label of ['benchmark · tiny-llama', 'generate · tiny-llama']) {
      await s.page.locator('.pane-body .monaco-list-row', { hasText: label }).first().waitFor({ timeout: 15_000 });
    }
    await s.shot('04-runs-view');

    await runCommand(s.page, 'QuantStudio: Compare Runs…');
    for (const label of ['benchmark · tiny-llama', 'generate · tiny-llama']) {
      const row = s.page.locator('.quick-input-widget .monaco-list-row', { hasText: label }).first();
      await row.waitFor({ timeout: 15_000 });
      await row.click();
    }
    const panel = await webviewFrame(s.page, '[data-testid="compare-panel"]', 30_000);
    const runs = await panel.locator('[data-testid="compare-runs"]').innerText();
    for (const file of [savedRuns('benchmark')[0], savedRuns('generate')[0]]) assert.ok(runs.includes(file), `${file} not in ${runs}`);
    await s.shot('05-compare-panel');
  }),
);
