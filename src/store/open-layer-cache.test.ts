import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { NomineError } from '../core/errors.ts';
import type { LayerReport } from '../scan/layer-report.ts';
import { openLayerCache } from './open-layer-cache.ts';
import { openSqliteFile } from './sqlite-file.ts';
import { openStore } from './open-store.ts';
import { sqlLayerCache } from '../scan/layer-cache.ts';
import { createTestStore } from './testing/test-store.ts';

function reportFor(key: string, path: string): LayerReport {
  return {
    key,
    flagged: [],
    whiteouts: [],
    opaqueDirs: [],
    paths: [path],
    stats: { bytes: 1024, entries: 1, analyzedFiles: 1, analyzedBytes: 12 },
    problems: [],
  };
}

test('a layer cache on a new store keeps what it is given, for the next scan and under its ruleset only', async () => {
  const store = await createTestStore('nomine-layer-cache-');
  try {
    const first = await openLayerCache(store.target, 'rules-1', () => 1);
    assert.equal(await first.get('sha256:aa'), undefined);
    await first.put(reportFor('sha256:aa', 'usr/bin/app'));
    await first.close();
    // The second opening finds the table (on SQLite it reads the file directly rather than through kysely).
    const second = await openLayerCache(store.target, 'rules-1', () => 2);
    assert.deepEqual(await second.get('sha256:aa'), reportFor('sha256:aa', 'usr/bin/app'));
    await second.put(reportFor('sha256:aa', 'usr/bin/app2'));
    assert.deepEqual((await second.get('sha256:aa'))?.paths, ['usr/bin/app2'], 'a second put replaces the entry');
    await second.close();
    const otherRules = await openLayerCache(store.target, 'rules-2', () => 3);
    assert.equal(await otherRules.get('sha256:aa'), undefined, 'another ruleset must scan again');
    await otherRules.close();
  } finally {
    await store.drop();
  }
});

test('the direct SQLite cache and the store agree on entries, and a damaged entry is a miss', async () => {
  const home = await mkdtemp(join(tmpdir(), 'nomine-layer-cache-'));
  try {
    const db = await openStore(home);
    await sqlLayerCache(db, 'rules', () => 1).put(reportFor('sha256:bb', 'etc/app.conf'));
    const direct = await openLayerCache(home, 'rules', () => 5);
    assert.deepEqual(await direct.get('sha256:bb'), reportFor('sha256:bb', 'etc/app.conf'));
    await direct.put(reportFor('sha256:cc', 'opt/run.sh'));
    assert.deepEqual(await sqlLayerCache(db, 'rules', () => 6).get('sha256:cc'), reportFor('sha256:cc', 'opt/run.sh'));
    const used = await db.selectFrom('layer_cache').select(['layer_key', 'used_at']).where('layer_key', '=', 'sha256:bb').executeTakeFirstOrThrow();
    assert.equal(Number(used.used_at), 5, 'a hit records when the entry was last used');
    await db.updateTable('layer_cache').set({ report: Buffer.from('not gzip') }).where('layer_key', '=', 'sha256:bb').execute();
    assert.equal(await direct.get('sha256:bb'), undefined);
    await direct.close();
    await db.destroy();
  } finally {
    await rm(home, { recursive: true, force: true });
  }
});

test('a store file that is not a database is refused with its path named', async () => {
  const home = await mkdtemp(join(tmpdir(), 'nomine-layer-cache-'));
  try {
    const file = join(home, 'nomine.db');
    await writeFile(file, 'this is not SQLite'.repeat(100));
    await assert.rejects(openLayerCache(home, 'rules', Date.now), (error: unknown) => {
      assert.ok(error instanceof NomineError);
      assert.match(error.message, /cannot open the store: file is not a database/);
      assert.equal(error.part, file);
      return true;
    });
    assert.ok((await readFile(file, 'utf8')).startsWith('this is not SQLite'), 'the file is left as it was');
  } finally {
    await rm(home, { recursive: true, force: true });
  }
});

test('a store without the layer cache table yet is migrated, not written to blindly', async () => {
  const home = await mkdtemp(join(tmpdir(), 'nomine-layer-cache-'));
  try {
    openSqliteFile(join(home, 'nomine.db')).close(); // an empty database file
    const cache = await openLayerCache(home, 'rules', () => 1);
    await cache.put(reportFor('sha256:dd', 'bin/sh'));
    assert.deepEqual((await cache.get('sha256:dd'))?.paths, ['bin/sh']);
    await cache.close();
  } finally {
    await rm(home, { recursive: true, force: true });
  }
});
