#!/usr/bin/env node
// Runs every benchmark script in test/bench/ (each *.mjs except this file and _helpers), one at a time so
// they do not disturb each other's timings, then prints all results as a table and as JSON.
//
// Contract for a benchmark script: it may write details to bench-results/<name>.json, and its LAST stdout
// line is one JSON object: { "name": string, "results": [{ "metric", "value", "unit", "target"?, "pass"? }] }.
// Optional arguments: names of scripts to run (e.g. `node test/bench/run.mjs lsp-latency`).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const only = process.argv.slice(2);
const scripts = readdirSync(here)
  .filter((name) => name.endsWith('.mjs') && name !== 'run.mjs' && !name.startsWith('_'))
  .filter((name) => only.length === 0 || only.includes(basename(name, '.mjs')))
  .sort();

const summary = [];
let failed = false;
for (const script of scripts) {
  process.stderr.write(`bench: ${script} …\n`);
  const run = spawnSync(process.execPath, [join(here, script)], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const lastLine = run.stdout.trim().split('\n').pop() ?? '';
  try {
    if (run.status !== 0) throw new Error(`exited with ${run.status}`);
    summary.push(JSON.parse(lastLine));
  } catch (error) {
    failed = true;
    summary.push({ name: basename(script, '.mjs'), error: `${error.message}; last output line: ${lastLine.slice(0, 200)}` });
  }
}

const rows = summary.flatMap((bench) =>
  bench.error
    ? [[bench.name, 'ERROR', bench.error, '', '', '']]
    : bench.results.map((r) => [
        bench.name,
        r.metric,
        typeof r.value === 'number' ? r.value.toFixed(3) : String(r.value),
        r.unit ?? '',
        r.target ?? '',
        r.pass === undefined ? '' : r.pass ? 'ok' : 'MISSED',
      ]),
);
const header = ['bench', 'metric', 'value', 'unit', 'target', ''];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => String(row[i]).length)));
const format = (row) =>
  row
    .map((cell, i) => String(cell).padEnd(widths[i]))
    .join('  ')
    .trimEnd();
console.log([format(header), format(widths.map((w) => '-'.repeat(w))), ...rows.map(format)].join('\n'));
console.log(JSON.stringify(summary, null, 2));
mkdirSync(join(root, 'bench-results'), { recursive: true });
writeFileSync(join(root, 'bench-results', 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
process.exit(failed ? 1 : 0);
