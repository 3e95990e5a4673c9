// `quantstudio validate` as a user runs it: exit codes, compiler-style report, --json shape, directory walking.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { quantstudio, repoRoot as repo } from '../../helpers/cli';

interface JsonReport {
  file: string;
  skipped?: string;
  diagnostics: Array<{ code: string; severity: number; message: string; range: { start: { line: number; character: number } } }>;
}

describe('quantstudio validate', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'qs-validate-'));
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it('passes on the shipped examples', () => {
    const run = quantstudio(['validate', 'examples']);
    assert.equal(run.status, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /\d+ files? checked.*: 0 errors/);
    assert.match(run.stdout, /examples\/tiny-llama\/config\.json: skipped \(no quantization config in it\)/);
  });

  it('fails on a broken file with a compiler-style report', () => {
    const file = join(scratch, 'quantize_config.json');
    writeFileSync(file, '{\n  "bits": "4",\n  "grup_size": 128\n}\n');
    const run = quantstudio(['validate', file]);
    assert.equal(run.status, 1);
    const lines = run.stdout.trim().split('\n');
    assert.equal(lines[0], `${file}:2:11: error schema/type: "bits" must be a number, not a string: write 4 without quotes.`);
    assert.match(
      lines[1],
      new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3:3: warning schema/additionalProperties: Unknown key "grup_size"`),
    );
    assert.equal(lines[lines.length - 1], '1 file checked: 1 error, 1 warning.');
  });

  it('prints an array of {file, diagnostics} with --json', () => {
    const file = join(scratch, 'quantize_config.json');
    writeFileSync(file, '{"bits": "4"}');
    const run = quantstudio(['validate', '--json', file, join(repo, 'package.json')]);
    assert.equal(run.status, 1);
    const reports = JSON.parse(run.stdout) as JsonReport[];
    assert.deepEqual(
      reports.map((r) => [r.file, r.skipped, r.diagnostics.map((d) => [d.code, d.severity, d.range.start])]),
      [
        [file, undefined, [['schema/type', 1, { line: 0, character: 9 }]]],
        ['package.json', 'not a quantization config file name', []],
      ],
    );
  });

  it('walks directories for config files, skipping node_modules and .git', () => {
    const dir = join(scratch, 'tree');
    mkdirSync(join(dir, 'node_modules', 'pkg'), { recursive: true });
    mkdirSync(join(dir, 'model'), { recursive: true });
    writeFileSync(join(dir, 'node_modules', 'pkg', 'quantize_config.json'), '{"bits": "broken"');
    writeFileSync(join(dir, 'model', 'quant_config.json'), '{"zero_point": true, "q_group_size": 128, "w_bit": 4, "version": "GEMM"}');
    writeFileSync(join(dir, 'notes.txt'), 'bits=5');
    const run = quantstudio(['validate', '--json', dir]);
    assert.equal(run.status, 0, run.stdout);
    assert.deepEqual(
      (JSON.parse(run.stdout) as JsonReport[]).map((r) => [r.file, r.diagnostics.length]),
      [[join(dir, 'model', 'quant_config.json'), 0]],
    );
  });

  it('exits 2 on usage errors', () => {
    assert.equal(quantstudio(['validate']).status, 2);
    assert.equal(quantstudio(['validate', '--fast', 'examples']).status, 2);
    const missing = quantstudio(['validate', join(scratch, 'nope.json')]);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /no such file or directory/);
    const unknown = quantstudio(['frobnicate']);
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /unknown command 'frobnicate'[\s\S]*usage: quantstudio <command>/);
  });
});
