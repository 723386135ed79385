/**
 * What callers of the store rely on, whichever backend holds it (the run's NOMINE_TEST_STORE, and for SQLite both
 * the in-thread driver the commands use and the worker threads the server uses): numbers come back as numbers,
 * bytes as bytes, generated keys count up, a duplicate key is an error callers can recognise, a failed transaction
 * leaves nothing behind.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Kysely } from 'kysely';
import { openStore, type StoreOptions } from './open-store.ts';
import type { Database } from './schema.ts';
import { createTestStore, testStoreKind, type TestStore } from './testing/test-store.ts';

const variants: { name: string; options: StoreOptions }[] =
  testStoreKind() === 'postgres'
    ? [{ name: 'PostgreSQL', options: {} }]
    : [
        { name: 'SQLite', options: {} },
        { name: 'SQLite in worker threads', options: { sqliteWorker: true } },
      ];

for (const variant of variants) {
  describe(`the store on ${variant.name}`, () => {
    let store: TestStore;
    let db: Kysely<Database>;
    before(async () => {
      store = await createTestStore();
      db = await openStore(store.target, variant.options);
    });
    after(async () => {
      await db.destroy();
      await store.drop();
    });

    it('returns millisecond timestamps and counts as numbers, not strings', async () => {
      const at = Date.parse('2286-11-20T17:46:39.999Z'); // past 2^32 seconds' worth of ms, well inside bigint
      await db.insertInto('layer_cache').values({ layer_key: 'sha256:a', ruleset: 'r1', report: Buffer.from('{}'), created_at: at, used_at: at + 1 }).execute();
      const row = await db.selectFrom('layer_cache').select(['created_at', 'used_at']).where('layer_key', '=', 'sha256:a').executeTakeFirstOrThrow();
      assert.deepEqual(row, { created_at: at, used_at: at + 1 });
      const { total, newest } = await db
        .selectFrom('layer_cache')
        .select((eb) => [eb.fn.countAll<number>().as('total'), eb.fn.max('used_at').as('newest')])
        .executeTakeFirstOrThrow();
      assert.equal(total, 1);
      assert.equal(newest, at + 1);
    });

    it('keeps bytes as bytes', async () => {
      const report = Buffer.from([0, 1, 2, 254, 255, 0x7b]);
      await db.insertInto('layer_cache').values({ layer_key: 'sha256:b', ruleset: 'r1', report, created_at: 1, used_at: 1 }).execute();
      const row = await db.selectFrom('layer_cache').select('report').where('layer_key', '=', 'sha256:b').executeTakeFirstOrThrow();
      assert.ok(Buffer.isBuffer(row.report));
      assert.deepEqual([...row.report], [...report]);
    });

    it('numbers profile events in the order they were written', async () => {
      for (const kind of ['created', 'learned', 'approved']) {
        await db.insertInto('profile_events').values({ profile_id: 'wl-1', at: 1, kind, revision: 1, detail: '{}' }).execute();
      }
      const rows = await db.selectFrom('profile_events').select(['seq', 'kind']).orderBy('seq').execute();
      assert.deepEqual(rows.map((row) => row.kind), ['created', 'learned', 'approved']);
      assert.ok(rows.every((row, i) => typeof row.seq === 'number' && (i === 0 || row.seq > rows[i - 1]!.seq)));
    });

    it('refuses a duplicate key with an error callers recognise, and stays usable', async () => {
      const row = { layer_key: 'sha256:c', ruleset: 'r1', report: Buffer.from('x'), created_at: 1, used_at: 1 };
      await db.insertInto('layer_cache').values(row).execute();
      const error = await db.insertInto('layer_cache').values(row).execute().then(
        () => assert.fail('a duplicate key must be refused'),
        (caught: unknown) => caught,
      );
      // SQLite's and PostgreSQL's spellings of a unique violation (what the server's isUniqueViolation reads).
      assert.ok(['SQLITE_CONSTRAINT_PRIMARYKEY', '23505'].includes((error as { code?: string }).code ?? ''), String(error));
      assert.equal((await db.selectFrom('layer_cache').selectAll().where('layer_key', '=', 'sha256:c').execute()).length, 1);
    });

    it('rolls a failed transaction back whole', async () => {
      await assert.rejects(
        db.transaction().execute(async (trx) => {
          await trx.insertInto('layer_cache').values({ layer_key: 'sha256:d', ruleset: 'r1', report: Buffer.from('x'), created_at: 1, used_at: 1 }).execute();
          await trx.insertInto('layer_cache').values({ layer_key: 'sha256:d', ruleset: 'r1', report: Buffer.from('y'), created_at: 1, used_at: 1 }).execute();
        }),
      );
      assert.equal((await db.selectFrom('layer_cache').selectAll().where('layer_key', '=', 'sha256:d').execute()).length, 0);
    });
  });
}
