// The serving benchmark in a real VS Code, against two loopback servers speaking the OpenAI completions API
// that record every request's Authorization header: `ours` (the endpoint the user stores an API key for with
// "QuantStudio: Set Serving API Key…") and `theirs` (the endpoint a second job file names). The Benchmark lens of
// a job file with benchmark.endpoint opens the serving panel; only `ours` ever sees the key, and the key is in
// no run file and no log line.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { readLogOutputChannel, runCommand, waitForNotification, webviewFrame } from './codeServer.mjs';
import { openFile } from './editor.mjs';
import { e2eSkipReason, REPO_ROOT } from './prerequisites.mjs';
import { EXTENSION_ID, openSession, SCREENSHOTS } from './session.mjs';

const HELPER = path.join(REPO_ROOT, 'out', 'test', 'helpers', 'servingServer.js');
const skip = e2eSkipReason() || (!fs.existsSync(HELPER) && `e2e skipped: ${HELPER} is missing: run \`npm run build\``);
const KEY = 'sk-e2e-serving-7f3a91';
const MODEL = path.join(REPO_ROOT, 'examples', 'tiny-llama');
const CONCURRENCY = [1, 2, 4];
let ours;
let theirs;
let s;

function jobFile(endpoint) {
  const job = {
    model: MODEL,
    quantization_config: { quant_method: 'gptq', bits: 4, group_size: 128 },
    benchmark: { endpoint: { url: endpoint, model: 'tiny', concurrency: CONCURRENCY, requests: 4, promptWords: 32, maxTokens: 16 } },
  };
  return `${JSON.stringify(job, null, 2)}\n`;
}

before(async () => {
  if (skip) return;
  const { startServingServer } = createRequire(import.meta.url)(HELPER);
  ours = await startServingServer({ firstMs: 40, gapMs: 5 });
  theirs = await startServingServer({ firstMs: 40, gapMs: 5 });
  s = await openSession(
    'serving',
    { extensionDir: REPO_ROOT },
    {
      fixture: path.join(REPO_ROOT, 'test', 'e2e', 'fixtures', 'jobs-workspace'),
      prepare: (workspace) => {
        fs.writeFileSync(path.join(workspace, 'serve.quant.json'), jobFile(ours.base));
        fs.writeFileSync(path.join(workspace, 'elsewhere.quant.json'), jobFile(theirs.base));
      },
    },
  );
});
after(async () => {
  await s?.close();
  await ours?.close();
  await theirs?.close();
});

const runsFolder = () => path.join(s.workspace, '.quantstudio', 'runs');
const savedRuns = () => (fs.existsSync(runsFolder()) ? fs.readdirSync(runsFolder()).filter((f) => f.endsWith('-serving.json')) : []);

async function benchmarkFrom(file, count) {
  await openFile(s.page, file);
  const lens = s.page.locator('.codelens-decoration a', { hasText: 'Benchmark' }).first();
  await lens.waitFor({ timeout: 30_000 });
  await lens.click();
  const deadline = Date.now() + 60_000;
  while (savedRuns().length < count) {
    if (Date.now() > deadline) throw new Error(`no serving run saved from ${file}`);
    await s.page.waitForTimeout(250);
  }
  const run = JSON.parse(fs.readFileSync(path.join(runsFolder(), savedRuns().sort().at(-1)), 'utf8'));
  return run;
}

test('the key stored for one endpoint goes there only; the Benchmark lens shows the serving panel', { skip }, (t) =>
  s.step(t, async () => {
    await openFile(s.page, 'serve.quant.json');
    await runCommand(s.page, 'QuantStudio: Set Serving API Key…');
    const input = s.page.locator('.quick-input-widget input');
    await s.page.locator('.quick-input-widget', { hasText: 'The API base the key is for' }).waitFor();
    assert.equal(await input.inputValue(), ours.base, "prefilled from the active job file's endpoint");
    await s.page.keyboard.press('Enter');
    await s.page.locator('.quick-input-widget', { hasText: `The key for ${ours.base}` }).waitFor();
    await input.fill(KEY);
    await s.page.keyboard.press('Enter');
    await waitForNotification(s.page, `API key for ${ours.base} stored`);

    const run = await benchmarkFrom('serve.quant.json', 1);
    assert.deepEqual(
      run.serving.map((l) => [l.concurrency, l.completed, l.meanOutputTokens]),
      CONCURRENCY.map((c) => [c, 4, 16]),
    );
    assert.equal(run.endpoint.authenticated, true);
    assert.deepEqual([...new Set(ours.seen.authorization)], [`Bearer ${KEY}`]);

    const panel = await webviewFrame(s.page, '[data-testid="serving-table"]', 30_000);
    assert.equal(await panel.locator('[data-testid="serving-table"] tbody tr').count(), CONCURRENCY.length);
    for (const id of ['chart-serving-throughput', 'chart-serving-ttft', 'chart-serving-tpot', 'chart-serving-requests'])
      assert.equal(await panel.locator(`[data-testid="${id}"] rect.bar`).count(), CONCURRENCY.length, id);
    await s.shot('01-serving-panel');
    await panel.locator('[data-testid="serving-table"]').screenshot({ path: path.join(SCREENSHOTS, 'serving', '02-serving-table.png') });

    const other = await benchmarkFrom('elsewhere.quant.json', 2);
    assert.equal(other.endpoint.authenticated, false);
    assert.ok(
      theirs.seen.authorization.length > 0 && theirs.seen.authorization.every((a) => a === undefined),
      'no key to the other endpoint',
    );

    const log = await readLogOutputChannel(s.cs, EXTENSION_ID, 'QuantStudio', { expect: 'serving benchmark of' });
    const written = savedRuns().map((f) => fs.readFileSync(path.join(runsFolder(), f), 'utf8'));
    for (const text of [log, ...written]) assert.ok(!text.includes(KEY), 'the key is never written or logged');
  }),
);
