// The byte formatters (adaptive units, and figures in a MiB column) and the context label, as every view shows them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { contextLabel, humanBytes, inMiB } from '../../../native/model';

test('humanBytes: binary units, one decimal unless asked, whole bytes below 1 KiB', () => {
  assert.equal(humanBytes(512), '512 B');
  assert.equal(humanBytes(1536), '1.5 KiB');
  assert.equal(humanBytes(6_144_000, 2), '5.86 MiB');
  assert.equal(humanBytes(3 * 2 ** 30), '3.0 GiB');
  assert.equal(humanBytes(5 * 2 ** 50), '5120.0 TiB');
});

test('inMiB: a figure for a MiB column or axis, thousands grouped, one decimal unless asked', () => {
  assert.equal(inMiB(30 * 2 ** 20), '30.0');
  assert.equal(inMiB(-10 * 2 ** 20), '-10.0');
  assert.equal(inMiB(2 ** 31), '2,048.0');
  assert.equal(inMiB(6_144_000, 2), '5.86');
});

test('contextLabel: whole thousands of 1024 as "k"', () => {
  assert.equal(contextLabel(2048), '2k');
  assert.equal(contextLabel(1000), '1000');
});
