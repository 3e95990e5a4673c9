// The finished Quantize panel: weights before and after with the compression, and the per-layer table
// (time and reconstruction error) recorded in the run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { quantizeBody } from '../../../client/src/extension/panels/quantizeView';
import { quantizeSummary } from '../../../client/src/extension/panels/quantizeSummary';
import { byTestId, fixtureRun, tableCells } from './panels-html';

const MIB = 1024 * 1024;

test('a run that records its input weights shows the size before, after and the ratio', () => {
  const base = fixtureRun('quantize');
  const run = { ...base, metrics: { ...base.metrics, inputWeightBytes: 10 * MIB }, output: { folder: '/o', bytes: 2.5 * MIB } };
  const rows = quantizeSummary(run).filter((r) => ['input-size', 'output-size', 'size-ratio'].includes(r.id));
  assert.deepEqual(
    rows.map((r) => [r.label, r.value]),
    [
      ['Weights before', '10.00 MiB'],
      ['Size after', '2.50 MiB'],
      ['Compression', '4.00× smaller'],
    ],
  );
  const older = quantizeSummary({ ...base, output: { folder: '/o', bytes: 2.5 * MIB } }).filter((r) => r.id.includes('size'));
  assert.deepEqual(
    older.map((r) => [r.label, r.value]),
    [['Size', '2.50 MiB']],
  );
});

test('the backend row names the engine, or the Python libraries with their versions, device and interpreter', () => {
  const base = fixtureRun('quantize');
  const backendRow = (run: typeof base) => quantizeSummary(run).find((r) => r.id === 'backend')?.value;
  assert.equal(backendRow(base), undefined); // runs saved before backends were recorded
  assert.equal(backendRow({ ...base, backend: { name: 'engine' } }), 'Native engine');
  const libraries = { transformers: '5.23.0', gptqmodel: '7.7.0', torch: '2.15.0' };
  assert.equal(
    backendRow({ ...base, backend: { name: 'python', interpreter: '/venv/bin/python', device: 'cpu', libraries } }),
    'Python: gptqmodel 7.7.0, torch 2.15.0, transformers 5.23.0 on cpu (/venv/bin/python)',
  );
});

test('the recorded layers are listed in order with time and error; runs without them get no table', () => {
  const base = fixtureRun('quantize');
  const layers = [
    { name: 'model.layers.0', seconds: 1.234, error: 0.00123, errorKind: 'output' as const },
    { name: 'model.layers.<1>', seconds: 0.5, error: 0.25, errorKind: 'output' as const },
  ];
  const table = byTestId(quantizeBody({ ...base, layers }), 'layer-table');
  assert.match(table, /<caption>Layers \(reconstruction error of each layer's output on the calibration data\)<\/caption>/);
  assert.deepEqual(tableCells(table).slice(1), [
    ['1/2', 'model.layers.0', '1.23', '1.230e-3'],
    ['2/2', 'model.layers.<1>', '0.50', '2.500e-1'],
  ]);
  assert.doesNotMatch(quantizeBody({ ...base, layers: undefined }), /data-testid="layer-table"/);
});

test('MoE layers list the calibration tokens per expert, the never-reached and round-to-nearest ones marked', () => {
  const base = fixtureRun('quantize');
  const layers = [
    {
      name: 'model.layers.0',
      seconds: 1,
      error: 0.01,
      errorKind: 'output' as const,
      expertTokens: [1024, 0, 3, 1021],
      fallbackExperts: [1, 2],
    },
    { name: 'model.layers.1', seconds: 1, error: 0.01, errorKind: 'output' as const },
    {
      name: 'model.layers.2',
      seconds: 1,
      error: 0.01,
      errorKind: 'output' as const,
      expertTokens: [500, 600, 500, 448],
      fallbackExperts: [],
    },
  ];
  const table = byTestId(quantizeBody({ ...base, layers }), 'expert-tokens');
  assert.match(
    table,
    /<caption>Calibration tokens per expert: 1 expert never reached \(too few tokens: quantized round-to-nearest, as GPTQModel 7.7 falls back; under AWQ every expert when one got none\)<\/caption>/,
  );
  assert.deepEqual(tableCells(table), [
    ['Layer', '0', '1', '2', '3', 'Round-to-nearest'],
    ['model.layers.0', '1024', '0', '3', '1021', '1, 2'],
    ['model.layers.2', '500', '600', '500', '448', 'none'],
  ]);
  assert.match(table, /class="number worse" data-testid="expert-model.layers.0-1">0</);
  assert.match(table, /class="number" data-testid="expert-model.layers.0-0">1024</);
  assert.doesNotMatch(quantizeBody({ ...base, layers: layers.slice(1, 2) }), /expert-tokens/);
});

test('modules whose damping was raised are listed with the damp_percent used; runs without any get no table', () => {
  const base = fixtureRun('quantize');
  const layers = [
    {
      name: 'model.layers.0',
      seconds: 1,
      error: 0.01,
      errorKind: 'output' as const,
      raisedDamping: [{ module: 'model.layers.0.self_attn.<q>_proj', dampPercent: 0.012500001 }],
    },
    { name: 'model.layers.1', seconds: 1, error: 0.01, errorKind: 'output' as const },
    {
      name: 'model.layers.2',
      seconds: 1,
      error: 0.01,
      errorKind: 'output' as const,
      raisedDamping: [{ module: 'model.layers.2.mlp.down_proj', dampPercent: 0.0525 }],
    },
  ];
  const table = byTestId(quantizeBody({ ...base, layers }), 'raised-damping');
  assert.match(table, /<caption>Damping raised until the Hessian factorised \(damp_auto_increment, as GPTQModel 7.7 does\)/);
  assert.deepEqual(tableCells(table), [
    ['Module', 'damp_percent used'],
    ['model.layers.0.self_attn.<q>_proj', '0.0125'],
    ['model.layers.2.mlp.down_proj', '0.0525'],
  ]);
  assert.doesNotMatch(quantizeBody({ ...base, layers: layers.slice(1, 2) }), /raised-damping/);
});

test("a mixedPrecision run shows each layer's measured saving, its cost and the width it got", () => {
  const base = fixtureRun('quantize');
  const allocation = {
    target: 3.5,
    bitsPerWeight: 3.494140625,
    baseBits: 3,
    wideBits: 4,
    samples: 16,
    fpNll: 3.064,
    seconds: 8.2,
    layers: [
      { layer: 'model.layers.0', gain: 0.026, cost: 0.251953125, widened: true },
      { layer: 'model.layers.<1>', gain: 0.0121, cost: 0.251953125, widened: false },
    ],
  };
  const table = byTestId(quantizeBody({ ...base, allocation }), 'allocation');
  assert.match(
    table,
    /<caption>Mixed precision: 3\.49 bits per weight \(budget 3\.5\), layers widened by KL divergence from the full-precision model saved per bit, measured on 16 calibration windows<\/caption>/,
  );
  assert.deepEqual(tableCells(table), [
    ['Layer', 'Divergence saved (×1e-3 nats/token)', 'Bits per weight it costs', 'Width'],
    ['model.layers.0', '26.00', '0.252', '4 bits'],
    ['model.layers.<1>', '12.10', '0.252', '3 bits'],
  ]);
  assert.doesNotMatch(quantizeBody(base), /data-testid="allocation"/);
});

test("a signRound run shows each layer's output error at round-to-nearest and learned, and the step kept", () => {
  const base = fixtureRun('quantize');
  const layers = [
    {
      name: 'model.layers.0',
      seconds: 20,
      error: 0.0157,
      errorKind: 'output' as const,
      signRound: { startLoss: 0.0022282, bestLoss: 0.00074133, bestIteration: 199 },
    },
    {
      name: 'model.layers.<1>',
      seconds: 21,
      error: 0.0391,
      errorKind: 'output' as const,
      signRound: { startLoss: 0.0031535, bestLoss: 0.0015233, bestIteration: 197 },
    },
  ];
  const table = byTestId(quantizeBody({ ...base, layers }), 'sign-round');
  assert.match(table, /<caption>Learned rounding \(signRound\): mean squared error of each layer's output/);
  assert.deepEqual(tableCells(table), [
    ['Layer', 'Round-to-nearest', 'Learned', 'Reduction', 'Step kept'],
    ['model.layers.0', '2.228e-3', '7.413e-4', '66.7 %', '199'],
    ['model.layers.<1>', '3.154e-3', '1.523e-3', '51.7 %', '197'],
  ]);
  assert.doesNotMatch(quantizeBody(base), /data-testid="sign-round"/);
});
