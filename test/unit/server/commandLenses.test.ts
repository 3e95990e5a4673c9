// The command lenses of a job file (*.quant.json): "▶ Quantize", "Benchmark", "Generate" above its
// top-level object, each running its client command with the file (Generate: with the job's model too).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { pathToFileURL } from 'url';
import { createLanguageService } from '../../../server/src/service';

const root = path.join(__dirname, '..', '..', '..', '..');
const jobFile = path.join(root, 'examples', 'configs', 'tiny-llama-nf4.quant.json');

function commandLenses(lenses: Awaited<ReturnType<ReturnType<typeof createLanguageService>['codeLenses']>>) {
  return lenses.filter((l) => l.command?.command !== 'quantstudio.showEstimate');
}

test('a job file gets the three command lenses on its opening brace, with { uri } arguments', async () => {
  const uri = pathToFileURL(jobFile).href;
  const text = fs.readFileSync(jobFile, 'utf8');
  const lenses = commandLenses(await createLanguageService().codeLenses({ uri, text }));
  const top = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
  assert.deepEqual(lenses, [
    { range: top, command: { title: '▶ Quantize', command: 'quantstudio.quantize', arguments: [{ uri }] } },
    { range: top, command: { title: 'Benchmark', command: 'quantstudio.benchmark', arguments: [{ uri }] } },
    {
      range: top,
      command: {
        title: 'Generate',
        command: 'quantstudio.generate',
        arguments: [{ model: path.join(root, 'examples', 'tiny-llama'), uri }],
      },
    },
  ]);
});

test('the lenses sit where the object starts, after leading comments', async () => {
  const uri = pathToFileURL('/work/jobs/x.quant.json').href;
  const text = '// a job\n\n  {"model": "m", "quantization_config": {"quant_method": "gptq", "bits": 4}}\n';
  const lenses = commandLenses(await createLanguageService().codeLenses({ uri, text }));
  assert.deepEqual(
    lenses.map((l) => l.range.start),
    [
      { line: 2, character: 2 },
      { line: 2, character: 2 },
      { line: 2, character: 2 },
    ],
  );
  assert.deepEqual(lenses[2].command?.arguments, [{ model: '/work/jobs/m', uri }]);
});

test('no command lenses on other config files, nor on a job file that is not an object', async () => {
  const service = createLanguageService();
  const quantizeConfig = { uri: pathToFileURL('/w/quantize_config.json').href, text: '{"bits": 4, "group_size": 128}' };
  const modelConfig = { uri: pathToFileURL('/w/config.json').href, text: '{"quantization_config": {"quant_method": "gptq", "bits": 4}}' };
  const notAnObject = { uri: pathToFileURL('/w/broken.quant.json').href, text: '[1, 2]' };
  for (const doc of [quantizeConfig, modelConfig, notAnObject]) assert.deepEqual(commandLenses(await service.codeLenses(doc)), [], doc.uri);
});
