// The one byte formatter and the context label, as every view shows them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { contextLabel, humanBytes } from '../../../native/model';

test('humanBytes: binary units, one decimal unless asked, whole bytes below 1 KiB', () => {
  assert.equal(humanBytes(512), '512 B');
  assert.equal(humanBytes(1536), '1.5 KiB');
  assert.equal(humanBytes(6_144_000, 2), '5.86 MiB');
  assert.equal(humanBytes(3 * 2 ** 30), '3.0 GiB');
  assert.equal(humanBytes(5 * 2 ** 50), '5120.0 TiB');
});

test('contextLabel: whole thousands of 1024 as "k"', () => {
  assert.equal(contextLabel(2048), '2k');
  assert.equal(contextLabel(1000), '1000');
});
