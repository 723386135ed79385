import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from './open-store.ts';

// Regression: two scans starting at once on a fresh $NOMINE_HOME failed with `table "layer_cache" already exists`.
// Separate connections opened together in one process race the same way separate processes do.
test('several connections opening a new store at once all get a migrated store', async () => {
  const home = await mkdtemp(join(tmpdir(), 'nomine-store-race-'));
  try {
    const stores = await Promise.all(Array.from({ length: 4 }, () => openStore(home)));
    for (const db of stores) assert.deepEqual(await db.selectFrom('layer_cache').selectAll().execute(), []);
    await Promise.all(stores.map((db) => db.destroy()));
  } finally {
    await rm(home, { recursive: true, force: true });
  }
});
