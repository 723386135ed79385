import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { openStore } from './open-store.ts';
import type { Database } from './schema.ts';

const entry = (key: string) => ({ layer_key: key, ruleset: 'r1', report: Buffer.from(key), created_at: 1, used_at: 1 });

describe('the SQLite store in worker threads', () => {
  let home: string;
  let db: Kysely<Database>;
  before(async () => {
    home = await mkdtemp(join(tmpdir(), 'nomine-sqlite-worker-'));
    db = await openStore(home, { sqliteWorker: true });
  });
  after(async () => {
    await db.destroy();
    await rm(home, { recursive: true, force: true });
  });

  it('answers a select while a transaction is open, with what was committed, and writes wait their turn', async () => {
    let inserted!: () => void;
    const insertedInside = new Promise<void>((resolve) => (inserted = resolve));
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const transaction = db.transaction().execute(async (trx) => {
      await trx.insertInto('layer_cache').values(entry('inside')).execute();
      inserted();
      await held;
    });
    await insertedInside;
    // The in-thread driver would make this select wait for the transaction; here it reads the last commit.
    assert.deepEqual(await db.selectFrom('layer_cache').select('layer_key').execute(), []);
    const order: string[] = [];
    const outside = db.insertInto('layer_cache').values(entry('outside')).execute().then(() => order.push('outside'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    order.push('commit');
    release();
    await Promise.all([transaction, outside]);
    assert.deepEqual(order, ['commit', 'outside']);
    assert.deepEqual((await db.selectFrom('layer_cache').select('layer_key').orderBy('layer_key').execute()).map((row) => row.layer_key), ['inside', 'outside']);
  });

  it('keeps what a commit wrote across a reopen, and says it is closed afterwards', async () => {
    const other = await mkdtemp(join(tmpdir(), 'nomine-sqlite-worker-'));
    try {
      const first = await openStore(other, { sqliteWorker: true });
      await first.insertInto('layer_cache').values(entry('kept')).execute();
      await first.destroy();
      await assert.rejects(first.selectFrom('layer_cache').selectAll().execute());
      const again = await openStore(other);
      assert.deepEqual((await again.selectFrom('layer_cache').select('layer_key').execute()).map((row) => row.layer_key), ['kept']);
      await again.destroy();
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });
});
