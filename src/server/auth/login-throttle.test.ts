import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createTestStore, type TestStore } from '../../store/testing/test-store.ts';
import { openServerStore, type ServerStore } from '../server-store.ts';
import { AttemptCounter } from './login-throttle.ts';

describe('AttemptCounter', () => {
  let store: TestStore;
  let db: ServerStore;
  before(async () => {
    store = await createTestStore();
    db = await openServerStore(store.target);
  });
  after(async () => {
    await db.destroy();
    await store.drop();
  });

  it('lets the limit through, then asks to wait until the window ends', async () => {
    const counter = new AttemptCounter(db, 'limit', { limit: 3, windowMs: 60_000 }, 100);
    for (let i = 0; i < 3; i += 1) {
      assert.equal(await counter.retryAfterSeconds('a', 1_000), 0);
      assert.equal(await counter.record('a', 1_000), 0);
    }
    assert.equal(await counter.retryAfterSeconds('a', 1_000), 60);
    assert.equal(await counter.retryAfterSeconds('a', 31_000), 30);
    assert.equal(await counter.record('a', 31_000), 30, 'the fourth attempt is over the limit');
    assert.equal(await counter.retryAfterSeconds('a', 61_000), 0);
    assert.equal(await counter.record('a', 61_000), 0, 'a new window starts with the first attempt after the last one ended');
  });

  it('counts keys and throttles apart and forgets a key on request', async () => {
    const counter = new AttemptCounter(db, 'apart', { limit: 1, windowMs: 1_000 }, 100);
    const other = new AttemptCounter(db, 'apart-other', { limit: 1, windowMs: 1_000 }, 100);
    await counter.record('a', 0);
    assert.ok((await counter.retryAfterSeconds('a', 0)) > 0);
    assert.equal(await counter.retryAfterSeconds('b', 0), 0);
    assert.equal(await other.retryAfterSeconds('a', 0), 0);
    await counter.forget('a');
    assert.equal(await counter.retryAfterSeconds('a', 0), 0);
  });

  it('lets exactly the limit through when attempts arrive at once', async () => {
    const counter = new AttemptCounter(db, 'race', { limit: 5, windowMs: 60_000 }, 100);
    const waits = await Promise.all(Array.from({ length: 20 }, () => counter.record('burst', 5_000)));
    assert.equal(waits.filter((wait) => wait === 0).length, 5);
  });

  it('keeps no key in the clear, whatever was typed', async () => {
    const counter = new AttemptCounter(db, 'digest', { limit: 5, windowMs: 60_000 }, 100);
    await counter.record('my secret password typed as a username', 0);
    const rows = await db.selectFrom('server_login_attempts').select('key_hash').where('scope', '=', 'digest').execute();
    assert.equal(rows.length, 1);
    assert.match(rows[0]!.key_hash, /^[0-9a-f]{64}$/);
  });

  it('stays bounded under many distinct keys, dropping ended windows and then the oldest', async () => {
    const counter = new AttemptCounter(db, 'bounded', { limit: 1, windowMs: 60_000 }, 3);
    for (let i = 0; i < 10; i += 1) await counter.record(`key-${i}`, 10_000 + i * 1_000);
    const rows = await db.selectFrom('server_login_attempts').select('window_start').where('scope', '=', 'bounded').execute();
    assert.ok(rows.length <= 4, `${rows.length} rows kept`);
    assert.equal(await counter.retryAfterSeconds('key-0', 20_000), 0, 'the oldest key was forgotten');
    assert.ok((await counter.retryAfterSeconds('key-9', 20_000)) > 0, 'the newest key is still counted');
    await counter.record('late', 200_000);
    assert.deepEqual(
      (await db.selectFrom('server_login_attempts').select('window_start').where('scope', '=', 'bounded').execute()).map((row) => row.window_start),
      [200_000],
      'ended windows are cleared',
    );
  });
});
