// The python backend in a real VS Code: one job file run by its "Benchmark" lens on the libraries (the reference
// venv as the user's quantstudio.python: GPTQModel 7.7 quantizes the file's GPTQ config, transformers measures the
// fp16 baseline and the GPTQ variant on the CPU), the same job file on the engine, and Compare Runs… with the two
// runs side by side, each side's backend named.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runCommand, webviewFrame } from './codeServer.mjs';
import { openFile } from './editor.mjs';
import { e2eSkipReason, REPO_ROOT } from './prerequisites.mjs';
import { openSession } from './session.mjs';
import { referenceVenv } from '../reference/venv.mjs';

const venv = referenceVenv();
const skip = e2eSkipReason() || venv.skip;
const MODEL = path.join(REPO_ROOT, 'examples', 'tiny-llama');
let s;

function jobFile(backend) {
  const job = {
    model: MODEL,
    quantization_config: { quant_method: 'gptq', bits: 4, group_size: 128, desc_act: false, sym: true },
    calibration: { dataset: 'wikitext2', nsamples: 4, seqlen: 64, seed: 0 },
    output: 'out/tiny-llama-gptq',
    ...(backend ? { backend } : {}),
    benchmark: { batchSizes: [1], promptLength: 32, generate: { promptTokens: 8, newTokens: 8 }, evaluate: { maxTokens: 512 }, repeat: 1 },
  };
  return `${JSON.stringify(job, null, 2)}\n`;
}

before(async () => {
  if (skip) return;
  s = await openSession(
    'python-backend',
    { extensionDir: REPO_ROOT },
    {
      fixture: path.join(REPO_ROOT, 'test', 'e2e', 'fixtures', 'jobs-workspace'),
      // a machine-scope setting: in a remote window (code-server) it is read from the remote (Machine) settings
      machineSettings: { 'quantstudio.python': venv.python },
      env: { GPTQMODEL_CPU_WORKERS: '2', HF_HUB_OFFLINE: '1' },
      prepare: (workspace) => {
        fs.writeFileSync(path.join(workspace, 'on-python.quant.json'), jobFile('python'));
        fs.writeFileSync(path.join(workspace, 'on-engine.quant.json'), jobFile(undefined));
      },
    },
  );
});
after(async () => {
  await s?.close();
});

const runsFolder = () => path.join(s.workspace, '.quantstudio', 'runs');
const savedRuns = () =>
  fs.existsSync(runsFolder())
    ? fs
        .readdirSync(runsFolder())
        .filter((f) => f.endsWith('-benchmark.json'))
        .sort()
    : [];

async function benchmarkFrom(file, count, timeoutMs) {
  await openFile(s.page, file);
  const lens = s.page.locator('.codelens-decoration a', { hasText: 'Benchmark' }).first();
  // A file opened while a panel held the focus has now and then shown no lenses until it was opened again.
  const shown = await lens.waitFor({ timeout: 30_000 }).then(
    () => true,
    () => false,
  );
  if (!shown) {
    await runCommand(s.page, 'View: Close Editor');
    await openFile(s.page, file);
    await lens.waitFor({ timeout: 60_000 });
  }
  await lens.click();
  for (const deadline = Date.now() + timeoutMs; savedRuns().length < count; await s.page.waitForTimeout(500))
    if (Date.now() > deadline) throw new Error(`no benchmark run saved from ${file}`);
  const name = savedRuns().at(-1);
  return { name, run: JSON.parse(fs.readFileSync(path.join(runsFolder(), name), 'utf8')) };
}

test('one job file on the python backend and on the engine, then side by side in Compare Runs', { skip, timeout: 600_000 }, (t) =>
  s.step(t, async () => {
    const python = await benchmarkFrom('on-python.quant.json', 1, 420_000);
    assert.equal(python.run.backend.name, 'python');
    assert.equal(python.run.backend.interpreter, venv.python);
    assert.equal(python.run.backend.device, 'cpu');
    assert.equal(python.run.backend.libraries.gptqmodel, '7.7.0');
    assert.deepEqual([...new Set(python.run.rows.map((r) => r.variant))], ['fp16', 'gptq 4-bit g128']);
    assert.equal(python.run.rows.find((r) => r.variant === 'fp16').kernel, 'torch Linear (float32)');
    assert.match(python.run.rows.find((r) => r.variant !== 'fp16').kernel, /^gptqmodel /);
    const panel = await webviewFrame(s.page, '[data-testid="benchmark-table"]', 30_000);
    assert.match(
      await panel.locator('[data-testid="benchmark-table"] caption').innerText(),
      /on the python backend: Python: .*gptqmodel 7\.7\.0/,
    );
    await s.shot('01-python-benchmark');

    const engine = await benchmarkFrom('on-engine.quant.json', 2, 180_000);
    assert.deepEqual(engine.run.backend, { name: 'engine' });
    assert.deepEqual([...new Set(engine.run.rows.map((r) => r.variant))], ['fp16', 'gptq 4-bit g128']);

    await runCommand(s.page, 'QuantStudio: Compare Runs…');
    for (const label of ['benchmark · tiny-llama · python', 'benchmark · tiny-llama']) {
      const row = s.page
        .locator('.quick-input-widget .monaco-list-row', { hasText: new RegExp(`^${label.replace(/\./g, '\\.')}(?! ·)`) })
        .first();
      await row.waitFor({ timeout: 15_000 });
      await row.click();
    }
    const compare = await webviewFrame(s.page, '[data-testid="compare-panel"]', 30_000);
    const backendRow = compare.locator('[data-testid="compare-runs"] tr:has(th:text-is("Backend"))');
    const cells = await backendRow.locator('td').allInnerTexts();
    assert.equal(cells.length, 2);
    assert.ok(cells.some((c) => /^Python: .*gptqmodel 7\.7\.0.* on cpu/.test(c)) && cells.includes('Native engine'), JSON.stringify(cells));
    // the rows of both runs, matched by variant, batch and phase
    assert.ok((await compare.locator('[data-testid="compare-benchmark"] tbody tr').count()) >= 4);
    await s.shot('02-compare-backends');
  }),
);
