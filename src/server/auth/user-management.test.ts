import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NomineError } from '../../core/errors.ts';
import { createTestStore, type TestStore } from '../../store/testing/test-store.ts';
import { openServerStore, type ServerStore } from '../server-store.ts';
import { deleteUser, setUserDisabled, setUserRole } from './user-management.ts';
import { createUser } from './users.ts';

const password = 'a long enough password';

/** Runs against the store NOMINE_TEST_STORE names: SQLite by default, PostgreSQL with `postgres`. */
describe('the last enabled admin, under concurrent changes', () => {
  let store: TestStore;
  let db: ServerStore;
  before(async () => {
    store = await createTestStore('nomine-user-management-');
    db = await openServerStore(store.target);
  });
  after(async () => {
    await db.destroy();
    await store.drop();
  });

  it('keeps exactly one admin when every admin is demoted, disabled or deleted at the same moment, round after round', async () => {
    const changes = [
      (id: string, now: number) => setUserRole(db, id, 'viewer', { actor: 'test', now }),
      (id: string, now: number) => setUserDisabled(db, id, true, { actor: 'test', now }),
      (id: string, now: number) => deleteUser(db, id, { actor: 'test', now }),
    ];
    for (let round = 0; round < 6; round++) {
      await db.deleteFrom('server_users').execute();
      const admins = await Promise.all(['ann', 'bob', 'cyd'].map((name) => createUser(db, { username: `${name}${round}`, password, role: 'admin' }, 1)));
      const outcomes = await Promise.allSettled(admins.map((admin, index) => changes[(index + round) % changes.length]!(admin.id, 2 + round)));
      const refused = outcomes.filter((outcome) => outcome.status === 'rejected');
      for (const outcome of refused) {
        const error = (outcome as PromiseRejectedResult).reason;
        assert.ok(error instanceof NomineError && error.code === 'conflict', String(error));
      }
      assert.equal(refused.length, 1, `round ${round}: ${outcomes.map((outcome) => outcome.status).join(', ')}`);
      const active = await db.selectFrom('server_users').select('username').where('role', '=', 'admin').where('disabled_at', 'is', null).execute();
      assert.equal(active.length, 1, `round ${round}`);
    }
  });
});
