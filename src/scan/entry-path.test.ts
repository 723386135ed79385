import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isUnder, linkEscapesRoot, normaliseEntryPath } from './entry-path.ts';

test('an ordinary entry path keeps its segments without leading ./', () => {
  assert.deepEqual(normaliseEntryPath('./usr/bin/xmrig'), { path: 'usr/bin/xmrig', escapes: false });
});

test('a path that climbs above the root is flagged and clamped inside it', () => {
  assert.deepEqual(normaliseEntryPath('../../etc/cron.d/miner'), { path: 'etc/cron.d/miner', escapes: true });
  assert.deepEqual(normaliseEntryPath('usr/../../tmp/x'), { path: 'tmp/x', escapes: true });
});

test('an absolute path is flagged', () => {
  assert.equal(normaliseEntryPath('/etc/passwd').escapes, true);
  assert.equal(normaliseEntryPath('/etc/passwd').path, 'etc/passwd');
});

test('a path that goes down then up stays inside', () => {
  assert.deepEqual(normaliseEntryPath('usr/lib/../bin/sh'), { path: 'usr/bin/sh', escapes: false });
});

test('a hard link that climbs out of the root is recognised', () => {
  assert.equal(linkEscapesRoot('usr/bin/x', '../../../etc/shadow'), true);
  assert.equal(linkEscapesRoot('usr/bin/x', '../lib/y'), false);
  assert.equal(linkEscapesRoot('usr/bin/x', '/bin/busybox'), false);
});

test('isUnder matches a directory and its descendants only', () => {
  assert.equal(isUnder('usr/bin/x', 'usr'), true);
  assert.equal(isUnder('usrx/bin', 'usr'), false);
  assert.equal(isUnder('usr', 'usr'), true);
});
