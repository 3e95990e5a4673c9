// "Quantize Model…"'s method quick-pick: every template writes a job file that the language service finds
// nothing wrong with (job schema, rules, model-aware checks against the demo model), that the job runner reads back as the intended quantize job.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { pathToFileURL } from 'url';
import { jobFromJobFile } from '../../../client/src/jobs/quantizeJobFile';
import { jobFileObject, jobFileText, METHOD_TEMPLATES, newJobFilePaths, qualityRowTemplate } from '../../../client/src/jobs';
import { QUALITY_TABLE } from '../../../native/model';
import { createLanguageService } from '../../../server/src/service';

const root = path.join(__dirname, '..', '..', '..', '..');
const model = path.join(root, 'examples', 'tiny-llama');
const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'qs-templates-'));
process.on('exit', () => fs.rmSync(workspace, { recursive: true, force: true }));

test('the five methods, in the order offered', () => {
  assert.deepEqual(
    METHOD_TEMPLATES.map((t) => t.id),
    ['gptq-4bit-g128', 'gptq-3bit-g128', 'awq-4bit-g128', 'bnb-nf4', 'bnb-int8'],
  );
  assert.equal(new Set(METHOD_TEMPLATES.map((t) => t.label)).size, METHOD_TEMPLATES.length);
});

for (const template of METHOD_TEMPLATES) {
  test(`${template.id}: a job file without diagnostics that runs as the intended job`, async () => {
    const { jobFile, output } = newJobFilePaths(workspace, model, template);
    assert.equal(jobFile, path.join(workspace, `tiny-llama-${template.id}.quant.json`));
    assert.equal(output, path.join(workspace, '.quantstudio', 'models', `tiny-llama-${template.id}`));
    const text = jobFileText(template, jobFile, model, output);
    fs.writeFileSync(jobFile, text);

    // with model-aware checks on: the template also fits the demo model's shapes
    const service = createLanguageService({ models: {} });
    const doc = { uri: pathToFileURL(jobFile).href, text };
    assert.ok(await service.resolveModel(doc), "the job file's model resolves");
    const diagnostics = await service.diagnose(doc);
    assert.deepEqual(
      diagnostics.map((d) => `${d.code}: ${d.message}`),
      [],
    );

    const job = jobFromJobFile(jobFile);
    assert.ok(typeof job !== 'string', String(job));
    assert.equal(job.kind, 'quantize');
    assert.equal(job.model, model);
    assert.deepEqual(job.config, template.config);
    assert.equal(job.options.out, output);
    assert.deepEqual(job.options.evaluate, { before: true, after: true });
    assert.equal(job.options.calibration === undefined, !template.calibrated);
  });
}

test('a job file written for the python backend names it, is clean, and runs as a python-backend job', async () => {
  const template = METHOD_TEMPLATES.find((t) => t.id === 'gptq-4bit-g128')!;
  const jobFile = path.join(workspace, 'tiny-llama-python.quant.json');
  const text = jobFileText(template, jobFile, model, path.join(workspace, 'out-python'), 'python');
  fs.writeFileSync(jobFile, text);
  assert.equal(JSON.parse(text).backend, 'python');
  const service = createLanguageService({ models: {} });
  const doc = { uri: pathToFileURL(jobFile).href, text };
  await service.resolveModel(doc);
  assert.deepEqual(await service.diagnose(doc), []);
  const job = jobFromJobFile(jobFile);
  assert.ok(typeof job !== 'string', String(job));
  assert.equal(job.options.backend, 'python');
  assert.equal(job.options.python, undefined); // the interpreter comes from the user, never from the file
  // the engine, the schema's default, is not written out
  assert.equal(JSON.parse(jobFileText(template, jobFile, model, path.join(workspace, 'out-python'))).backend, undefined);
});

test("paths inside the job file's folder are relative with forward slashes; outside ones stay absolute", () => {
  const template = METHOD_TEMPLATES[0];
  const inside = jobFileObject(
    template,
    path.join(workspace, 'a.quant.json'),
    path.join(workspace, 'models', 'llama'),
    path.join(workspace, 'out', 'llama-q'),
  );
  assert.equal(inside.model, 'models/llama');
  assert.equal(inside.output, 'out/llama-q');
  assert.deepEqual(inside.calibration, { dataset: 'wikitext2', nsamples: 128, seqlen: 256, seed: 0 });
  const outside = jobFileObject(template, path.join(workspace, 'a.quant.json'), model, path.join(workspace, 'out', 'llama-q'));
  assert.equal(outside.model, model);
});

test("the quality table's signRound row becomes a clean job file that runs with its signRound", async () => {
  const row = QUALITY_TABLE.rows.find((r) => r.id === 'gptq-3bit-g128-asym-signround')!;
  const template = qualityRowTemplate(row)!;
  const { jobFile, output } = newJobFilePaths(workspace, model, template);
  const text = jobFileText(template, jobFile, model, output);
  fs.writeFileSync(jobFile, text);
  assert.deepEqual(JSON.parse(text).signRound, row.signRound);
  const service = createLanguageService({ models: {} });
  const doc = { uri: pathToFileURL(jobFile).href, text };
  assert.ok(await service.resolveModel(doc));
  assert.deepEqual(
    (await service.diagnose(doc)).map((d) => `${d.code}: ${d.message}`),
    [],
  );
  const job = jobFromJobFile(jobFile);
  assert.ok(typeof job !== 'string', String(job));
  assert.deepEqual(job.options.signRound, row.signRound);
  assert.deepEqual(job.config, row.config);
});
