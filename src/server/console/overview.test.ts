import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTestStore, type TestStore } from '../../store/testing/test-store.ts';
import { openServerStore, type ServerStore } from '../server-store.ts';
import { seedFleet } from '../testing/fleet-fixture.ts';
import { buildOverview, overviewCache } from './overview.ts';

describe('the overview on a slow store', () => {
  let store: TestStore;
  let db: ServerStore;
  const saved = { ...overviewCache };
  const now = Date.now();
  before(async () => {
    store = await createTestStore();
    db = await openServerStore(store.target);
    await seedFleet(db, now);
    // Every aggregation counts as slow and is stale at once: what a large fleet's store does.
    Object.assign(overviewCache, { slowMs: -1, ttlMs: 0 });
  });
  after(async () => {
    Object.assign(overviewCache, saved);
    await db.destroy();
    await store.drop();
  });

  it('answers from the last aggregation at once and brings it up to date behind, so no viewer waits on it', async () => {
    const first = await buildOverview(db, '24h', now);
    const template = await db.selectFrom('server_alerts').selectAll().limit(1).executeTakeFirstOrThrow();
    await db.insertInto('server_alerts').values({ ...template, id: 'c1d2e3f4-0000-4000-8000-000000000001', dedupe_key: 'new', last_at: now, first_at: now }).execute();
    const stale = await buildOverview(db, '24h', now);
    assert.equal(stale.alerts.total, first.alerts.total, 'the kept aggregation answers while it is recomputed');
    // The recomputation runs behind the answer; the next request sees it.
    let fresh = stale;
    for (let attempt = 0; attempt < 50 && fresh.alerts.total === first.alerts.total; attempt += 1) {
      await sleep(20);
      fresh = await buildOverview(db, '24h', now);
    }
    assert.equal(fresh.alerts.total, first.alerts.total + 1);
    assert.ok(fresh.topRules.some((rule) => rule.key === template.rule));
  });
});
