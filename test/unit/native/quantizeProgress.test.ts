// A quantize job's progress between the engine's layer events: which layer runs and for how long, the time
// left once a layer is done (the finished layers' mean per layer left, less the running one's time so far),
// and every layer message naming the figure "reconstruction error". Times are given in seconds.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LayerProgress, layerMessage } from '../../../native/worker/handlers/quantizeProgress';

const layer = (i: number, seconds: number, error: number) => ({ name: `model.layers.${i}`, seconds, error, errorKind: 'output' as const });

test('ticks name the running layer and its calibration set; the time left appears once a layer is done', () => {
  const p = new LayerProgress({ windows: 128, tokens: 256 });
  assert.equal(p.tick(1, 4), undefined, 'nothing before the engine starts the layers');
  assert.deepEqual(p.onEngine({ phase: 'load', done: 0, total: 1 }, 2), { phase: 'load', current: 0, total: 1 });
  p.onEngine({ phase: 'calibrate', done: 0, total: 1 }, 3);
  assert.deepEqual(p.tick(10.5, 4), {
    phase: 'quantize',
    current: 0,
    total: 4,
    message: 'model.layers.0 running on 128 calibration windows of 256 tokens, 7 s so far',
  });
  const first = p.onEngine({ phase: 'layer', done: 1, total: 4, layer: layer(0, 16.74, 5.807e-3) }, 19);
  assert.deepEqual(first, {
    phase: 'layer',
    current: 1,
    total: 4,
    message: 'model.layers.0: 16.74 s, reconstruction error 5.807e-3 (layer output)',
    etaSeconds: 48,
    detail: { layer: 'model.layers.0', seconds: 16.74, error: 5.807e-3 },
  });
  assert.deepEqual(p.tick(24, 4), {
    phase: 'quantize',
    current: 1,
    total: 4,
    message: 'model.layers.1 running on 128 calibration windows of 256 tokens, 5 s so far',
    etaSeconds: 43,
  });
  p.onEngine({ phase: 'layer', done: 2, total: 4, layer: layer(1, 13, 9e-3) }, 33);
  assert.equal(p.tick(34, 4)?.etaSeconds, 30 - 1, 'two layers in 30 s: 15 s each for the two left, less the second the third has had');
  p.onEngine({ phase: 'layer', done: 4, total: 4, layer: layer(3, 13, 9e-3) }, 60);
  assert.equal(p.tick(61, 4), undefined, 'no tick after the last layer');
});

test('without calibration (RTN, bitsandbytes) the ticks start at load and say nothing of windows', () => {
  const p = new LayerProgress({ windows: 128, tokens: 256 });
  p.onEngine({ phase: 'load', done: 0, total: 1 }, 0);
  assert.equal(p.tick(2, 2)?.message, 'model.layers.0 running, 2 s so far');
  p.onEngine({ phase: 'write', done: 1, total: 10 }, 3);
  assert.equal(p.tick(4, 2), undefined, 'no tick once writing started');
  assert.equal(
    layerMessage({ name: 'model.layers.1', seconds: 0.5, error: 0.25, errorKind: 'weight' }),
    'model.layers.1: 0.50 s, reconstruction error 2.500e-1 (weights)',
  );
});

test("mixed precision's measurement ticks name the layer measured and the time left, and stop once the layers start", () => {
  const p = new LayerProgress({ windows: 128, tokens: 256 });
  assert.deepEqual(p.onEngine({ phase: 'allocate', done: 0, total: 4 }, 1), {
    phase: 'allocate',
    current: 0,
    total: 4,
    message: 'sensitivity to the wider width measured on 0 of 4 layers',
  });
  assert.deepEqual(p.tick(4.5, 4), {
    phase: 'allocate',
    current: 0,
    total: 4,
    message: "measuring model.layers.0's sensitivity to the wider width, 3 s so far",
  });
  p.onEngine({ phase: 'allocate', done: 1, total: 4 }, 9);
  assert.deepEqual(p.tick(11, 4), {
    phase: 'allocate',
    current: 1,
    total: 4,
    message: "measuring model.layers.1's sensitivity to the wider width, 2 s so far",
    etaSeconds: 8 * 3 - 2,
  });
  p.onEngine({ phase: 'allocate', done: 4, total: 4 }, 30);
  assert.equal(p.tick(31, 4), undefined, 'measured: quiet until the quantization starts');
  p.onEngine({ phase: 'load', done: 0, total: 1 }, 32);
  p.onEngine({ phase: 'calibrate', done: 0, total: 1 }, 33);
  assert.equal(p.tick(35, 4)?.message, 'model.layers.0 running on 128 calibration windows of 256 tokens, 2 s so far');
});

test("signRound's steps are not events of their own: the next tick names the latest, until the layer is done", () => {
  const p = new LayerProgress({ windows: 16, tokens: 128 });
  p.onEngine({ phase: 'calibrate', done: 0, total: 1 }, 0);
  assert.equal(p.onEngine({ phase: 'round', done: 1, total: 200 }, 1), undefined);
  assert.equal(p.onEngine({ phase: 'round', done: 57, total: 200 }, 3), undefined);
  assert.equal(
    p.tick(4, 4)?.message,
    'model.layers.0 running on 16 calibration windows of 128 tokens, signRound step 57 of 200, 4 s so far',
  );
  p.onEngine({ phase: 'layer', done: 1, total: 4, layer: layer(0, 10, 1e-3) }, 10);
  assert.equal(p.tick(11, 4)?.message, 'model.layers.1 running on 16 calibration windows of 128 tokens, 1 s so far');
});
