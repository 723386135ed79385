import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createEventSummaries } from './event-summaries.ts';

describe('event summaries', () => {
  it('counts events by type per entity and window, cumulatively across takes', () => {
    const summaries = createEventSummaries({ windowMs: 1000 });
    summaries.count('a', 'exec', 100);
    summaries.count('a', 'exec', 200);
    summaries.count('b', 'connect', 300);
    summaries.count('a', 'connect', 1500);
    assert.deepEqual(summaries.take(1600), [
      { entityId: 'a', windowStart: 0, windowEnd: 200, counts: { exec: 2 } },
      { entityId: 'b', windowStart: 0, windowEnd: 300, counts: { connect: 1 } },
      { entityId: 'a', windowStart: 1000, windowEnd: 1500, counts: { connect: 1 } },
    ]);
    summaries.count('a', 'connect', 1700);
    // Only the window that changed, with everything it counted so far.
    assert.deepEqual(summaries.take(1800), [{ entityId: 'a', windowStart: 1000, windowEnd: 1700, counts: { connect: 2 } }]);
    assert.deepEqual(summaries.take(1900), []);
  });

  it('forgets ended windows once taken, and stays bounded, counting what it dropped', () => {
    const summaries = createEventSummaries({ windowMs: 1000, maxWindows: 2 });
    summaries.count('a', 'exec', 0);
    summaries.count('b', 'exec', 0);
    summaries.count('c', 'exec', 0);
    assert.equal(summaries.dropped, 1);
    assert.deepEqual(summaries.take(5000).map((s) => s.entityId), ['b', 'c']);
    summaries.count('b', 'exec', 10);
    assert.deepEqual(summaries.take(5000), [{ entityId: 'b', windowStart: 0, windowEnd: 10, counts: { exec: 1 } }], 'a window that ended starts over once forgotten');
  });

  it('ignores impossible times and keeps the number of types per window bounded', () => {
    const summaries = createEventSummaries({ windowMs: 1000 });
    summaries.count('a', 'exec', Number.NaN);
    summaries.count('a', 'exec', -5);
    for (let i = 0; i < 40; i++) summaries.count('a', `type-${i}`, 1);
    const [window] = summaries.take(0);
    assert.equal(Object.keys(window!.counts).length, 33);
    assert.equal(window!.counts.other, 8);
  });
});

describe('event summaries taken in parts', () => {
  it('leaves windows beyond the maximum for the next take', () => {
    const summaries = createEventSummaries({ windowMs: 1000 });
    for (const entity of ['a', 'b', 'c']) summaries.count(entity, 'exec', 5);
    assert.deepEqual(summaries.take(5000, 2).map((s) => s.entityId), ['a', 'b']);
    assert.deepEqual(summaries.take(5000, 2).map((s) => s.entityId), ['c']);
  });
});

describe('event summaries across an agent restart', () => {
  it('gives the counts of a process started mid-window a window of their own, so the console keeps both parts', () => {
    const before = createEventSummaries({ windowMs: 1000, since: 0 });
    before.count('a', 'exec', 100);
    before.count('a', 'exec', 400);
    const first = before.take(450);
    // The agent restarts at 500 and counts one more exec in the same period.
    const after = createEventSummaries({ windowMs: 1000, since: 500 });
    after.count('a', 'exec', 700);
    after.count('a', 'exec', 1200);
    const second = after.take(1300);
    assert.deepEqual(first, [{ entityId: 'a', windowStart: 0, windowEnd: 400, counts: { exec: 2 } }]);
    assert.deepEqual(second, [
      { entityId: 'a', windowStart: 500, windowEnd: 700, counts: { exec: 1 } },
      { entityId: 'a', windowStart: 1000, windowEnd: 1200, counts: { exec: 1 } },
    ]);
    // Keyed as the console keys them (entity, window start): nothing of the earlier part is overwritten.
    const keys = [...first, ...second].map((summary) => `${summary.entityId}@${summary.windowStart}`);
    assert.equal(new Set(keys).size, keys.length);
  });
});
