import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findRemoval } from './final-filesystem.ts';
import type { LayerReport } from './layer-report.ts';

function layer(parts: Partial<LayerReport>): LayerReport {
  return { key: 'k', flagged: [], whiteouts: [], opaqueDirs: [], paths: [], stats: { bytes: 0, entries: 0, analyzedFiles: 0, analyzedBytes: 0 }, problems: [], ...parts };
}

test('a miner no later layer touches is present in the final image', () => {
  const layers = [layer({ paths: ['usr/bin/xmrig'] }), layer({ paths: ['etc/motd'] })];
  assert.equal(findRemoval(layers, 0, 'usr/bin/xmrig'), undefined);
});

test('a miner deleted by a whiteout in a later layer is reported as removed by that layer', () => {
  const layers = [layer({}), layer({ paths: ['opt/x'] }), layer({ whiteouts: ['opt/x'] })];
  assert.deepEqual(findRemoval(layers, 1, 'opt/x'), { by: 'whiteout', layerIndex: 2 });
});

test('a whiteout of a parent directory removes the miner below it', () => {
  const layers = [layer({}), layer({ whiteouts: ['opt'] })];
  assert.deepEqual(findRemoval(layers, 0, 'opt/miner/bin'), { by: 'whiteout', layerIndex: 1 });
});

test('an opaque directory hides what lower layers put inside it', () => {
  const layers = [layer({}), layer({ opaqueDirs: ['opt'] })];
  assert.deepEqual(findRemoval(layers, 0, 'opt/x'), { by: 'opaque-directory', layerIndex: 1 });
});

test('a later file at the same path replaces the miner', () => {
  const layers = [layer({}), layer({ paths: ['usr/bin/top'] })];
  assert.deepEqual(findRemoval(layers, 0, 'usr/bin/top'), { by: 'replaced', layerIndex: 1 });
});

test('a whiteout in the same layer does not remove a file that layer adds', () => {
  const layers = [layer({ whiteouts: ['opt/x'], paths: ['opt/x'] })];
  assert.equal(findRemoval(layers, 0, 'opt/x'), undefined);
});
