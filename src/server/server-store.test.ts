import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../store/open-store.ts';
import { openServerStore } from './server-store.ts';

describe('server store', () => {
  it('runs the core and the server migrations together, and again without harm', async () => {
    const home = await mkdtemp(join(tmpdir(), 'nomine-server-store-'));
    try {
      const stores = await Promise.all([openServerStore(home), openServerStore(home)]);
      for (const db of stores) {
        assert.deepEqual(await db.selectFrom('server_users').selectAll().execute(), []);
        assert.deepEqual(await db.selectFrom('layer_cache').selectAll().execute(), []);
      }
      await Promise.all(stores.map((db) => db.destroy()));
      const again = await openServerStore(home);
      await again.destroy();
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });

  it('leaves the store usable by the other commands', async () => {
    const home = await mkdtemp(join(tmpdir(), 'nomine-server-store-'));
    try {
      await (await openServerStore(home)).destroy();
      const core = await openStore(home);
      await core.destroy();
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
});
