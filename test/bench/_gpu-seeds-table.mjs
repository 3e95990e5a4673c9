#!/usr/bin/env node
// The seeds' GPU table from what _gpu_seeds_table.py brought back from a CUDA machine (the measure runner's JSON
// lines per variant): rows built with the benchmark job's own statistics (median of the timed runs, per-step
// latency, throughput), written as a RunResult (<folder>/seeds.run.json, which the Benchmark panel opens) and
// printed as the README's Markdown table beside the seeds' A100 figures; with --screenshot, the Benchmark panel's
// page for that run (VS Code's Light+ colours) pictured by headless chromium as <folder>/benchmark-panel.png.
// Needs `npm run build`.
//
//   node test/bench/_gpu-seeds-table.mjs test/bench/results/h200-llama-2-13b [--screenshot]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';

const require = createRequire(import.meta.url);
const root = resolve(import.meta.dirname, '..', '..');
const { timingOf } = require(join(root, 'out', 'native', 'worker', 'handlers', 'benchmark', 'messages.js'));
const { rowsOf } = require(join(root, 'out', 'native', 'worker', 'handlers', 'benchmark', 'rows.js'));

// The seeds' Llama-2-13B figures on an A100 (transformers' quantization overview), batch 1 and 16, prompt 512.
const SEEDS = {
  fp16: { latency: [36.96, null], memory: [29153, 53987] },
  gptq: { latency: [33.71, null], memory: [10484, 34777] },
  bitsandbytes: { latency: [52.0, null], memory: [11018, 35532] },
};
const DESCRIPTIONS = {
  fp16: { quantization: 'fp16', bits: 16, groupSize: null, actOrder: null },
  gptq: { quantization: 'gptq', bits: 4, groupSize: 128, actOrder: false },
  bitsandbytes: { quantization: 'nf4', bits: 4, groupSize: 64, actOrder: null },
};

const folder = resolve(
  process.argv.slice(2).find((a) => !a.startsWith('--')) ?? join(root, 'test', 'bench', 'results', 'h200-llama-2-13b'),
);
const results = readdirSync(folder)
  .filter((f) => /^seeds-(fp16|bitsandbytes|gptq-[\w]+)\.jsonl$/.test(f))
  .map((f) => ({
    file: f,
    lines: readFileSync(join(folder, f), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l)),
  }));

const rows = [];
const failures = [];
let backend;
for (const name of ['fp16', 'gptq-exllama_v2', 'gptq-triton', 'gptq-auto', 'gptq-marlin', 'bitsandbytes']) {
  const found = results.find((r) => r.file === `seeds-${name}.jsonl`);
  if (!found) continue;
  const result = found.lines.find((l) => l.type === 'result');
  if (!result) {
    const error = found.lines.find((l) => l.type === 'error');
    failures.push(`${name}: ${error ? error.message : 'stopped before a result (the time cap)'}`);
    continue;
  }
  const label = found.lines.find((l) => l.type === 'progress')?.phase.replace(/^load /, '') ?? name;
  const report = { ...result.report, phases: result.report.phases.map(({ runs, ...p }) => ({ ...p, ...timingOf(runs) })) };
  rows.push(
    ...rowsOf(
      { label, where: name, description: DESCRIPTIONS[name.split('-')[0]], source: { kind: 'model', folder: '' } },
      report,
      null, // random weights: no perplexity
    ),
  );
  backend = { name: 'python', device: result.device, gpus: result.gpus, libraries: { ...backend?.libraries, ...result.libraries } };
}

const run = {
  schemaVersion: 1,
  id: 'h200-llama-2-13b-seeds',
  kind: 'benchmark',
  startedAt: '2026-12-03T18:31:00.000Z',
  finishedAt: '2026-12-03T18:46:00.000Z',
  durationSeconds: 900,
  model: { ref: 'random-weight Llama-2-13B shape', architecture: 'LlamaForCausalLM' },
  environment: {
    engineVersion: 'python backend',
    threads: 16,
    cpu: `${backend.gpus?.[0] ?? 'GPU'} host, 16 cores`,
    avx2: true,
    os: 'linux',
    node: '-',
  },
  metrics: { variants: new Set(rows.map((r) => r.variant)).size },
  backend,
  rows,
};
writeFileSync(join(folder, 'seeds.run.json'), `${JSON.stringify(run, null, 2)}\n`);

const gb = (bytes) => (bytes / 1e6).toFixed(0);
const lines = [
  '| variant (kernel) | batch | decode ms/token (min–max) | seeds A100 | peak allocated MB | reserved MB | seeds A100 MB | load s |',
  '| --- | --- | --- | --- | --- | --- | --- | --- |',
];
for (const r of rows.filter((row) => row.phase === 'generate')) {
  const seeds = SEEDS[r.variant.startsWith('gptq') ? 'gptq' : r.variant.startsWith('bits') ? 'bitsandbytes' : 'fp16'];
  const i = r.batch === 1 ? 0 : 1;
  const [lo, hi] = r.perTokenLatencyMsRange;
  const latency = `${r.perTokenLatencyMs.toFixed(2)} (${lo.toFixed(2)}–${hi.toFixed(2)})`;
  const memory = `${gb(r.peakMemoryBytes)} | ${gb(r.reservedMemoryBytes)} | ${seeds.memory[i]}`;
  lines.push(
    `| ${r.variant} (${r.kernel}) | ${r.batch} | ${latency} | ${seeds.latency[i] ?? '—'} | ${memory} | ${r.loadSeconds.toFixed(1)} |`,
  );
}
process.stdout.write(`${lines.join('\n')}\n`);
if (failures.length > 0) process.stdout.write(`\nnot measured:\n${failures.map((f) => `- ${f}`).join('\n')}\n`);
process.stdout.write(`\nlibraries: ${JSON.stringify(backend.libraries)}; GPUs: ${backend.gpus?.join(', ')}\n`);

if (process.argv.includes('--screenshot')) {
  const { runPage } = require(join(root, 'out', 'client', 'src', 'extension', 'panels', 'pages.js'));
  // The workbench gives a webview its theme as CSS variables: VS Code's Light+ values for the picture.
  const theme =
    ':root{--vscode-font-family:"Segoe UI",sans-serif;--vscode-font-size:13px;--vscode-foreground:#3b3b3b;' +
    '--vscode-editor-background:#fff;--vscode-descriptionForeground:#717171;--vscode-widget-border:#e5e5e5;' +
    '--vscode-editor-font-family:monospace;--vscode-charts-blue:#1a85ff;--vscode-charts-orange:#d18616}';
  const html = runPage({ run, runFile: '.quantstudio/runs/h200-llama-2-13b-seeds.json' }, { cspSource: "'self'", nonce: 'n' }).replace(
    '<style nonce="n">',
    `<style nonce="n">${theme}`,
  );
  const scratch = mkdtempSync(join(tmpdir(), 'qs-seeds-panel-'));
  writeFileSync(join(scratch, 'panel.html'), html);
  const png = join(folder, 'benchmark-panel.png');
  execFileSync(
    'chromium',
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--hide-scrollbars',
      '--window-size=1500,1240',
      `--screenshot=${png}`,
      `file://${scratch}/panel.html`,
    ],
    { stdio: 'ignore' },
  );
  rmSync(scratch, { recursive: true, force: true });
  process.stdout.write(`panel: ${png}\n`);
}
