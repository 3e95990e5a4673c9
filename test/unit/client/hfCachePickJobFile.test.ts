// A Hub id picked for "Quantize Model…" survives the job file round trip: the new job file keeps the id, and
// the quantize and benchmark readers hand it to the worker as an id — unless a folder of that name sits
// next to the job file, which wins as it does in the worker.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { benchmarkJobFromJobFile } from '../../../client/src/jobs/benchmarkJobFile';
import { jobFromJobFile } from '../../../client/src/jobs/quantizeJobFile';
import { jobFileText, METHOD_TEMPLATES, newJobFilePaths } from '../../../client/src/jobs';

describe('job files on a Hub id', () => {
  const workspace = mkdtempSync(join(tmpdir(), 'qs-hub-jobfile-'));
  after(() => rmSync(workspace, { recursive: true, force: true }));
  const template = METHOD_TEMPLATES[0]!;

  it('a new job file keeps the id; both readers return it as the job model', () => {
    const paths = newJobFilePaths(workspace, 'meta-llama/Llama-3.2-1B@main', template);
    assert.equal(paths.jobFile, join(workspace, `Llama-3.2-1B@main-${template.id}.quant.json`));
    writeFileSync(paths.jobFile, jobFileText(template, paths.jobFile, 'meta-llama/Llama-3.2-1B@main', paths.output));
    const quantize = jobFromJobFile(paths.jobFile);
    const benchmark = benchmarkJobFromJobFile(paths.jobFile);
    assert.ok(typeof quantize !== 'string' && typeof benchmark !== 'string', String(quantize));
    assert.equal(quantize.model, 'meta-llama/Llama-3.2-1B@main');
    assert.equal(benchmark.model, 'meta-llama/Llama-3.2-1B@main');
    assert.equal(quantize.options.out, paths.output);
  });

  it('a folder named like an id next to the job file is the model', () => {
    mkdirSync(join(workspace, 'models', 'tiny'), { recursive: true });
    const jobFile = join(workspace, 'local.quant.json');
    writeFileSync(jobFile, JSON.stringify({ model: 'models/tiny', quantization_config: template.config, output: 'out' }));
    const job = jobFromJobFile(jobFile);
    assert.ok(typeof job !== 'string', String(job));
    assert.equal(job.model, join(workspace, 'models', 'tiny'));
  });
});
