import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Alert } from './alert.ts';
import { createAlertAggregator, type AlertDraft, type EmissionGate } from './aggregate.ts';

function draft(overrides: Partial<AlertDraft> = {}): AlertDraft {
  return {
    dedupeKey: 'process-not-allowed|container:kv|/tmp/xmrig',
    rule: 'process-not-allowed',
    severity: 'high',
    message: 'kv-store (container kv-1) ran /tmp/xmrig, which its profile does not allow; the process was killed.',
    entity: { id: 'c1', name: 'kv-1' },
    workload: 'container:kv',
    seen: 'exec /tmp/xmrig by /bin/sh, pid 4242',
    allowed: '2 executables: /bin/busybox, /bin/sh',
    mode: 'prevent',
    phase: 'enforcing',
    action: { taken: 'killed', reason: 'prevent mode kills processes outside the profile' },
    ...overrides,
  };
}

function counterIds(): () => string {
  let n = 0;
  return () => `a${++n}`;
}

describe('alert aggregation', () => {
  it('emits the first occurrence at once, with an id, its time and a count of one', () => {
    const agg = createAlertAggregator({ windowMs: 1000, newId: counterIds() });
    const { alert, isNew, emitted } = agg.add(draft({ at: 500 }), 1000);
    assert.equal(isNew, true);
    assert.equal(emitted.length, 1);
    assert.deepEqual(emitted[0], alert);
    assert.equal(alert.id, 'a1');
    assert.equal(alert.count, 1);
    assert.equal(alert.firstAt, 500);
    assert.equal(alert.lastAt, 500);
    assert.equal('at' in alert, false, 'the draft time does not leak into the alert');
  });

  it('keeps a kill in the aggregate when a later occurrence found nothing left to act on', () => {
    const agg = createAlertAggregator({ windowMs: 1000, newId: counterIds() });
    agg.add(draft({ action: { taken: 'killed', reason: 'process 42 was killed (SIGKILL)' } }), 0);
    const { alert } = agg.add(draft({ action: { taken: 'none', reason: 'process 43 had already exited' } }), 100);
    assert.equal(alert.count, 2);
    assert.deepEqual(alert.action, { taken: 'killed', reason: 'process 42 was killed (SIGKILL)' });
    const later = agg.add(draft({ action: { taken: 'stopped', reason: 'container stopped' } }), 200).alert;
    assert.equal(later.action.taken, 'stopped', 'a later action that did something replaces it');
  });

  it('counts duplicates within the window into the same alert and sends one update when the window has passed', () => {
    const agg = createAlertAggregator({ windowMs: 1000, newId: counterIds() });
    agg.add(draft(), 0);
    for (let t = 100; t <= 900; t += 100) assert.deepEqual(agg.add(draft(), t).emitted, [], 'no update inside the window');
    assert.deepEqual(agg.flushDue(999), []);
    const updates = agg.flushDue(1000);
    assert.equal(updates.length, 1);
    assert.equal(updates[0]!.id, 'a1');
    assert.equal(updates[0]!.count, 10);
    assert.equal(updates[0]!.firstAt, 0);
    assert.equal(updates[0]!.lastAt, 900);
    assert.deepEqual(agg.flushDue(1500), [], 'nothing new, nothing sent');
  });

  it('sends an update at most once per window even when duplicates keep coming', () => {
    const agg = createAlertAggregator({ windowMs: 1000, newId: counterIds() });
    const emitted: Alert[] = [];
    for (let t = 0; t < 10_000; t += 50) {
      emitted.push(...agg.add(draft(), t).emitted);
      if (t % 250 === 0) emitted.push(...agg.flushDue(t));
    }
    assert.ok(emitted.length <= 11, `${emitted.length} emissions in 10 windows`);
    assert.equal(new Set(emitted.map((a) => a.id)).size, 1);
    const counts = emitted.map((a) => a.count);
    assert.deepEqual(counts, [...counts].sort((a, b) => a - b), 'counts only grow');
    for (let i = 1; i < emitted.length; i++) assert.ok(emitted[i]!.lastAt - emitted[i - 1]!.lastAt >= 900);
  });

  it('sends a late duplicate at once when the window since the last emission has already passed', () => {
    const agg = createAlertAggregator({ windowMs: 1000, newId: counterIds() });
    agg.add(draft(), 0);
    agg.add(draft(), 600);
    const { emitted } = agg.add(draft(), 1200);
    assert.equal(emitted.length, 1);
    assert.equal(emitted[0]!.count, 3);
  });

  it('keeps different deviations apart', () => {
    const agg = createAlertAggregator({ windowMs: 1000, newId: counterIds() });
    const a = agg.add(draft(), 0).alert;
    const b = agg.add(draft({ dedupeKey: 'egress|container:kv|1.2.3.4:3333', rule: 'mining-pool' }), 10).alert;
    assert.notEqual(a.id, b.id);
    assert.equal(agg.size, 2);
  });

  it('closes an aggregate after a quiet window, so the next occurrence is a new alert', () => {
    const agg = createAlertAggregator({ windowMs: 1000, newId: counterIds() });
    const first = agg.add(draft(), 0).alert;
    assert.deepEqual(agg.flushDue(1000), []);
    assert.equal(agg.size, 0);
    const again = agg.add(draft(), 1500);
    assert.equal(again.isNew, true);
    assert.notEqual(again.alert.id, first.id);
  });

  it('sends the pending update before closing a quiet aggregate', () => {
    const agg = createAlertAggregator({ windowMs: 1000, newId: counterIds() });
    agg.add(draft(), 0);
    agg.add(draft(), 100);
    const out = agg.flushDue(5000);
    assert.equal(out.length, 1);
    assert.equal(out[0]!.count, 2);
    assert.equal(agg.size, 1, 'still open for one more window after the update');
    assert.deepEqual(agg.flushDue(6000), []);
    assert.equal(agg.size, 0);
  });

  it('holds at most maxOpen aggregates and flushes the least recently seen one it evicts', () => {
    const agg = createAlertAggregator({ windowMs: 60_000, maxOpen: 3, newId: counterIds() });
    agg.add(draft({ dedupeKey: 'k1' }), 0);
    agg.add(draft({ dedupeKey: 'k1' }), 1);
    agg.add(draft({ dedupeKey: 'k2' }), 2);
    agg.add(draft({ dedupeKey: 'k3' }), 3);
    agg.add(draft({ dedupeKey: 'k2' }), 4);
    const { emitted } = agg.add(draft({ dedupeKey: 'k4' }), 5);
    assert.equal(agg.size, 3);
    assert.equal(agg.has('k1'), false, 'k1 was the least recently seen');
    assert.equal(agg.has('k2'), true);
    assert.deepEqual(
      emitted.map((a) => [a.dedupeKey, a.count]),
      [
        ['k1', 2],
        ['k4', 1],
      ],
    );
    assert.equal(agg.stats().evicted, 1);
  });

  it('keeps a refused snapshot and sends it with every occurrence counted once the gate admits it', () => {
    let isOpen = false;
    const gate: EmissionGate = { admit: () => isOpen, fold: () => assert.fail('nothing closes here') };
    const agg = createAlertAggregator({ windowMs: 1000, newId: counterIds(), gate });
    assert.deepEqual(agg.add(draft(), 0).emitted, []);
    agg.add(draft(), 10);
    assert.deepEqual(agg.flushDue(100), []);
    isOpen = true;
    const out = agg.flushDue(200);
    assert.equal(out.length, 1);
    assert.equal(out[0]!.count, 2);
    assert.equal(agg.stats().held, 1);
  });

  it('folds the occurrences no snapshot carried when a refused aggregate must close', () => {
    const folded: Array<[string, number]> = [];
    let isOpen = true;
    const gate: EmissionGate = { admit: () => isOpen, fold: (a, n) => folded.push([a.dedupeKey, n]) };
    const agg = createAlertAggregator({ windowMs: 1000, maxOpen: 1, newId: counterIds(), gate });
    agg.add(draft({ dedupeKey: 'k1' }), 0);
    isOpen = false;
    agg.add(draft({ dedupeKey: 'k1' }), 1);
    agg.add(draft({ dedupeKey: 'k1' }), 2);
    agg.add(draft({ dedupeKey: 'k2' }), 3);
    assert.deepEqual(folded, [['k1', 2]], 'the first occurrence went out; the two after it are folded');
    const drained = agg.drain(4);
    assert.deepEqual(drained, []);
    assert.deepEqual(folded, [
      ['k1', 2],
      ['k2', 1],
    ]);
    assert.equal(agg.stats().folded, 3);
  });

  it('drains every pending update at shutdown, most severe first', () => {
    const agg = createAlertAggregator({ windowMs: 60_000, newId: counterIds() });
    agg.add(draft({ dedupeKey: 'low', severity: 'low' }), 0);
    agg.add(draft({ dedupeKey: 'low', severity: 'low' }), 1);
    agg.add(draft({ dedupeKey: 'crit', severity: 'critical' }), 2);
    agg.add(draft({ dedupeKey: 'crit', severity: 'critical' }), 3);
    agg.add(draft({ dedupeKey: 'quiet' }), 4);
    const out = agg.drain(5);
    assert.deepEqual(
      out.map((a) => [a.dedupeKey, a.count]),
      [
        ['crit', 2],
        ['low', 2],
      ],
    );
    assert.equal(agg.size, 0);
  });

  it('raises the severity but never lowers it, and describes the latest occurrence', () => {
    const agg = createAlertAggregator({ windowMs: 1000, newId: counterIds() });
    agg.add(draft({ severity: 'medium' }), 0);
    agg.add(draft({ severity: 'critical', entity: { id: 'c2', name: 'kv-2' } }), 1);
    const { alert } = agg.add(draft({ severity: 'low', action: { taken: 'failed', reason: 'the process had exited' } }), 2);
    assert.equal(alert.severity, 'critical');
    assert.equal(alert.entity.name, 'kv-1');
    assert.equal(alert.action.taken, 'failed');
  });

  it('hands out copies, so a caller changing an alert does not change the aggregate', () => {
    const agg = createAlertAggregator({ windowMs: 1000, newId: counterIds() });
    const { alert } = agg.add(draft(), 0);
    alert.count = 99;
    alert.entity.name = 'changed';
    const again = agg.add(draft(), 1).alert;
    assert.equal(again.count, 2);
    assert.equal(again.entity.name, 'kv-1');
  });
});
