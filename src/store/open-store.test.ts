import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { NomineError } from '../core/errors.ts';
import { openStore } from './open-store.ts';
import { createTestStore, testPostgresUrl, testStoreKind } from './testing/test-store.ts';

// Regression: two scans starting at once on a fresh $NOMINE_HOME failed with `table "layer_cache" already exists`.
// Separate connections opened together in one process race the same way separate processes do.
test('several connections opening a new store at once all get a migrated store', async () => {
  const store = await createTestStore('nomine-store-race-');
  try {
    const stores = await Promise.all(Array.from({ length: 4 }, () => openStore(store.target)));
    for (const db of stores) assert.deepEqual(await db.selectFrom('layer_cache').selectAll().execute(), []);
    await Promise.all(stores.map((db) => db.destroy()));
  } finally {
    await store.drop();
  }
});

async function failureOf(promise: Promise<unknown>): Promise<NomineError> {
  const error = await promise.then(
    () => assert.fail('expected the store to refuse'),
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof NomineError, String(error));
  return error;
}

describe('opening a PostgreSQL store that cannot be used', () => {
  test('names an unreachable server by its URL, without the password', async () => {
    // A port that was just free: nothing listens there.
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    const error = await failureOf(openStore(`postgres://nomine:s3cret-word@127.0.0.1:${port}/nomine`));
    assert.equal(error.code, 'unreachable');
    assert.match(error.describe(), new RegExp(`postgres://nomine:\\*\\*\\*@127\\.0\\.0\\.1:${port}/nomine.*ECONNREFUSED`));
    assert.doesNotMatch(error.describe(), /s3cret-word/);
  });

  test('refuses a malformed URL before connecting, saying what a URL looks like', async () => {
    for (const url of ['postgres://user:pw@host-without-database', 'postgresql://[::1', 'postgres://u:pw@/db']) {
      const error = await failureOf(openStore(url));
      assert.equal(error.code, 'invalid-input');
      assert.match(error.message, /postgres:\/\/USER/);
      assert.doesNotMatch(error.describe(), /pw@/);
    }
  });

  const skip = testStoreKind() === 'postgres' ? false : 'needs NOMINE_TEST_STORE=postgres';
  test('says the password was refused', { skip }, async () => {
    const url = new URL(testPostgresUrl());
    url.password = 'not-the-password';
    const error = await failureOf(openStore(url.toString()));
    assert.equal(error.code, 'unauthorized');
    assert.match(error.describe(), /\*\*\*@.*password authentication failed/);
    assert.doesNotMatch(error.describe(), /not-the-password/);
  });

  test('says the database does not exist', { skip }, async () => {
    const url = new URL(testPostgresUrl());
    url.pathname = '/nomine_no_such_database';
    const error = await failureOf(openStore(url.toString()));
    assert.equal(error.code, 'not-found');
    assert.match(error.describe(), /nomine_no_such_database.*no such database/);
    assert.doesNotMatch(error.describe(), new RegExp(decodeURIComponent(url.password)));
  });
});
