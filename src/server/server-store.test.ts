import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openStore } from '../store/open-store.ts';
import { createTestStore } from '../store/testing/test-store.ts';
import { openServerStore } from './server-store.ts';

describe('server store', () => {
  it('runs the core and the server migrations together, and again without harm', async () => {
    const store = await createTestStore('nomine-server-store-');
    try {
      const stores = await Promise.all([openServerStore(store.target), openServerStore(store.target)]);
      for (const db of stores) {
        assert.deepEqual(await db.selectFrom('server_users').selectAll().execute(), []);
        assert.deepEqual(await db.selectFrom('layer_cache').selectAll().execute(), []);
      }
      await Promise.all(stores.map((db) => db.destroy()));
      const again = await openServerStore(store.target);
      await again.destroy();
    } finally {
      await store.drop();
    }
  });

  it('leaves the store usable by the other commands', async () => {
    const store = await createTestStore('nomine-server-store-');
    try {
      await (await openServerStore(store.target)).destroy();
      const core = await openStore(store.target);
      await core.destroy();
    } finally {
      await store.drop();
    }
  });
});
