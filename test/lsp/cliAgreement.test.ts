// `quantstudio validate` and the language server agree: on every case of the rules corpus and on configs
// beside (or naming) the model-aware fixture models, the CLI reports exactly the diagnostics the server
// publishes once the target model is resolved, model-aware ones (checkpoint mismatch, group size) included;
// `--model` stands in for the quantstudio.model setting.
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { Diagnostic } from 'vscode-languageserver-protocol';
import { quantstudio, repoRoot as repo } from '../helpers/cli';
import { LspSession } from './lspSession';

const temp = mkdtempSync(join(tmpdir(), 'qs-cli-server-'));
const modelAware = join(repo, 'test', 'fixtures', 'model-aware');

/** Both sides: no Hub (HF_HUB_OFFLINE, an empty HF cache), so a Hub id settles as the same note on each. */
function env(): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, HF_HUB_OFFLINE: '1', HF_HUB_CACHE: join(temp, 'hf-cache') };
  for (const key of ['HF_ENDPOINT', 'HF_TOKEN']) delete e[key];
  return e;
}

interface Case {
  file: string;
  lines: string[];
}

/** test/fixtures/rules/*.json, each case in its own folder under its own file name, markers removed. */
function rulesCorpus(): string[] {
  const dir = join(repo, 'test', 'fixtures', 'rules');
  return readdirSync(dir).flatMap((name) =>
    (JSON.parse(readFileSync(join(dir, name), 'utf8')) as Case[]).map((c, i) => {
      const folder = join(temp, 'rules', `${name.replace('.json', '')}-${i}`);
      mkdirSync(folder, { recursive: true });
      writeFileSync(join(folder, c.file), c.lines.join('\n').replace(/[⟦⟧]/g, '') + '\n');
      return join(folder, c.file);
    }),
  );
}

/** The model-aware fixture models copied, with configs that agree and disagree with their weights. */
function modelAwareCorpus(): string[] {
  const models = join(temp, 'models');
  cpSync(modelAware, models, { recursive: true, filter: (src) => !src.endsWith('.mjs') });
  const edit = (folder: string, from: string, to: string): string => {
    const target = join(models, `${folder}-edited`);
    cpSync(join(models, folder), target, { recursive: true });
    const file = join(target, 'config.json');
    writeFileSync(file, readFileSync(file, 'utf8').replace(from, to));
    return file;
  };
  const odd = join(models, 'fp16-odd-widths');
  writeFileSync(join(odd, 'quantize_config.json'), '{\n  "bits": 4,\n  "group_size": 32\n}\n');
  writeFileSync(
    join(models, 'odd.quant.json'),
    JSON.stringify({ model: './fp16-odd-widths', quantization_config: { quant_method: 'awq', bits: 4, group_size: 64 } }, null, 2),
  );
  return [
    ...['awq-g32', 'bnb-int8', 'bnb-nf4', 'gptq-8bit-g32'].map((f) => join(models, f, 'config.json')),
    edit('gptq-8bit-g32', '"bits": 8', '"bits": 4'),
    edit('bnb-nf4', '"nf4"', '"fp4"'),
    edit('awq-g32', '"group_size": 32', '"group_size": 64'),
    join(odd, 'quantize_config.json'),
    join(models, 'odd.quant.json'),
  ];
}

type Reported = Pick<Diagnostic, 'code' | 'severity' | 'range' | 'message'>;
const plain = (d: Reported): Reported => ({ code: d.code, severity: d.severity, range: d.range, message: d.message });

/** `quantstudio validate --json` over the files, by file. */
function cliReports(files: string[], extra: string[] = []): Map<string, Reported[]> {
  const run = quantstudio(['validate', '--json', ...extra, ...files], repo, env());
  assert.ok(run.status === 0 || run.status === 1, run.stderr);
  const reports = JSON.parse(run.stdout) as Array<{ file: string; diagnostics: Reported[] }>;
  return new Map(reports.map((r) => [r.file, r.diagnostics.map(plain)]));
}

/** The server's diagnostics once they equal the CLI's, or its last publish when they never do. */
async function serverAgrees(session: LspSession, file: string, expected: Reported[]): Promise<void> {
  const uri = pathToFileURL(file).href;
  await session.open(uri, readFileSync(file, 'utf8'));
  const deadline = Date.now() + 5_000;
  for (;;) {
    const last = (session.published(uri).at(-1)?.diagnostics ?? []).map(plain);
    try {
      assert.deepEqual(last, expected, file);
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await session.nextDiagnostics(uri, Math.max(1, deadline - Date.now())).catch(() => undefined);
    }
  }
}

describe('quantstudio validate reports what the language server publishes', () => {
  let files: { rules: string[]; models: string[] };
  before(() => {
    files = { rules: rulesCorpus(), models: modelAwareCorpus() };
  });
  after(() => rmSync(temp, { recursive: true, force: true }));

  it('on the rules corpus and the model-aware fixtures', async () => {
    const all = [...files.rules, ...files.models];
    const cli = cliReports(all);
    const codes = [...cli.values()].flat().map((d) => String(d.code));
    for (const code of ['model/checkpoint-mismatch', 'model/group-size-divides'])
      assert.ok(codes.includes(code), `the CLI reports no ${code}`);
    const session = await LspSession.start({ env: env() });
    try {
      for (const file of all) await serverAgrees(session, file, cli.get(file) ?? []);
    } finally {
      session.kill();
    }
  });

  it('with --model in place of the quantstudio.model setting', async () => {
    const file = join(temp, 'quantize.py');
    writeFileSync(file, 'from transformers import GPTQConfig\nconfig = GPTQConfig(bits=4, group_size=32, dataset="c4")\n');
    const model = join(modelAware, 'fp16-odd-widths');
    const cli = cliReports([file], ['--model', model]).get(file) ?? [];
    assert.deepEqual(
      cli.map((d) => d.code),
      ['model/group-size-divides'],
    );
    assert.deepEqual(cliReports([file]).get(file), [], 'without --model there is no model to check against');
    const session = await LspSession.start({
      env: env(),
      initializationOptions: { quantstudio: { validation: { debounceMs: 0 }, model } },
    });
    try {
      await serverAgrees(session, file, cli);
    } finally {
      session.kill();
    }
  });
});
