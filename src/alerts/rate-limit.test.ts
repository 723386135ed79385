import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Alert } from './alert.ts';
import { createAlertAggregator, type AlertDraft } from './aggregate.ts';
import { anyWorkload, createAlertRateLimiter, isRateLimitSummary } from './rate-limit.ts';

function draft(key: string, workload = 'container:kv', overrides: Partial<AlertDraft> = {}): AlertDraft {
  return {
    dedupeKey: `${workload}|${key}`,
    rule: 'file-write-not-allowed',
    severity: 'medium',
    message: `${workload} wrote ${key}, which its profile does not allow.`,
    entity: { id: 'c1', name: 'kv-1' },
    workload,
    seen: `write ${key}`,
    allowed: '/var/log/*',
    mode: 'alert',
    phase: 'enforcing',
    action: { taken: 'none', reason: 'alert mode only reports' },
    ...overrides,
  };
}

function alert(workload: string, n = 1): Alert {
  return { ...draft(`k${n}`, workload), id: `x${n}`, firstAt: 0, lastAt: 0, count: 1 };
}

function counterIds(): () => string {
  let n = 0;
  return () => `id${++n}`;
}

/** The last word on each alert id: outputs upsert by id, so the total is the sum of each id's highest count. */
function totalCount(snapshots: Alert[]): number {
  const byId = new Map<string, number>();
  for (const s of snapshots) byId.set(s.id, Math.max(byId.get(s.id) ?? 0, s.count));
  let total = 0;
  for (const c of byId.values()) total += c;
  return total;
}

describe('alert rate limit', () => {
  it('admits a workload burst, refuses beyond it, and admits again as tokens return', () => {
    const limiter = createAlertRateLimiter({ workload: { perSecond: 2, burst: 3 }, global: { perSecond: 1000, burst: 1000 }, newId: counterIds() });
    const admitted = [1, 2, 3, 4].map((n) => limiter.admit(alert('w', n), 0));
    assert.deepEqual(admitted, [true, true, true, false]);
    assert.equal(limiter.admit(alert('w', 5), 499), false, 'half a token is not enough');
    assert.equal(limiter.admit(alert('w', 6), 500), true, 'one token after 500 ms at 2/s');
    assert.deepEqual(limiter.stats(), { admitted: 4, refused: 2, folded: 0, summaries: 0 });
  });

  it('does not let one noisy workload spend the budget of another', () => {
    const limiter = createAlertRateLimiter({ workload: { perSecond: 1, burst: 2 }, global: { perSecond: 1000, burst: 1000 }, newId: counterIds() });
    for (let i = 0; i < 100; i++) limiter.admit(alert('noisy', i), 0);
    assert.equal(limiter.admit(alert('quiet', 1), 0), true);
  });

  it('caps the node as a whole with the global bucket', () => {
    const limiter = createAlertRateLimiter({ workload: { perSecond: 100, burst: 100 }, global: { perSecond: 1, burst: 5 }, newId: counterIds() });
    let admitted = 0;
    for (let w = 0; w < 20; w++) if (limiter.admit(alert(`w${w}`), 0)) admitted++;
    assert.equal(admitted, 5);
  });

  it('adds nothing when the clock steps back', () => {
    const limiter = createAlertRateLimiter({ workload: { perSecond: 1, burst: 1 }, global: { perSecond: 1000, burst: 1000 }, newId: counterIds() });
    assert.equal(limiter.admit(alert('w'), 10_000), true);
    assert.equal(limiter.admit(alert('w'), 0), false);
    assert.equal(limiter.admit(alert('w'), 10_500), false);
    assert.equal(limiter.admit(alert('w'), 11_000), true);
  });

  it('folds held occurrences into one summary per workload and rule that says how many and whose', () => {
    const limiter = createAlertRateLimiter({ summaryWindowMs: 1000, newId: counterIds() });
    limiter.fold(alert('container:kv', 1), 3, 0);
    limiter.fold(alert('container:kv', 2), 4, 10);
    limiter.fold(alert('container:web', 3), 1, 20);
    const first = limiter.summaries(20);
    assert.equal(first.length, 2, 'a new summary goes out at once');
    const kv = first.find((s) => s.workload === 'container:kv')!;
    assert.equal(kv.count, 3, 'the first fold as it was emitted');
    assert.ok(isRateLimitSummary(kv));
    assert.match(kv.message, /^3 more file-write-not-allowed alerts for workload container:kv went over the alert rate limit/);
    assert.deepEqual(limiter.summaries(500), [], 'updates wait for the window');
    const update = limiter.summaries(1000);
    assert.equal(update.length, 1);
    assert.equal(update[0]!.id, kv.id);
    assert.equal(update[0]!.count, 7);
    assert.match(update[0]!.message, /^7 more/);
  });

  it('shares one summary per rule for workloads beyond the summary limit', () => {
    const limiter = createAlertRateLimiter({ maxSummaries: 2, newId: counterIds() });
    for (let w = 0; w < 10; w++) limiter.fold(alert(`w${w}`), 1, 0);
    const out = limiter.drainSummaries(1);
    assert.equal(out.length, 3);
    const shared = out.find((s) => s.workload === anyWorkload)!;
    assert.equal(shared.count, 8);
    assert.match(shared.message, /workloads beyond the summary limit/);
  });

  it('keeps memory bounded and every count exact through a storm of 100k distinct deviations', () => {
    const ids = counterIds();
    const limiter = createAlertRateLimiter({ summaryWindowMs: 1000, maxWorkloads: 100, maxSummaries: 20, newId: ids });
    const agg = createAlertAggregator({ windowMs: 1000, maxOpen: 1000, newId: ids, gate: limiter });
    const out: Alert[] = [];
    let maxOpen = 0;
    // 100k drafts in 10 s of fake time, 200 workloads, every draft a new deviation (a miner writing random files).
    for (let i = 0; i < 100_000; i++) {
      const now = Math.floor(i / 10);
      out.push(...agg.add(draft(`/tmp/f${i}`, `w${i % 200}`), now).emitted);
      if (i % 1000 === 0) out.push(...agg.flushDue(now), ...limiter.summaries(now));
      maxOpen = Math.max(maxOpen, agg.size);
    }
    out.push(...agg.drain(10_000), ...limiter.drainSummaries(10_000));
    assert.ok(maxOpen <= 1000, `open aggregates ${maxOpen}`);
    assert.equal(totalCount(out), 100_000);
    assert.ok(out.length < 2000, `${out.length} snapshots reached the outputs, not 100k`);
    assert.ok(out.some(isRateLimitSummary));
    assert.ok(limiter.stats().summaries <= 20 + 10);
  });

  it('keeps every count exact through a storm of 100k identical and mixed deviations', () => {
    const ids = counterIds();
    const limiter = createAlertRateLimiter({ workload: { perSecond: 1, burst: 2 }, global: { perSecond: 5, burst: 10 }, summaryWindowMs: 500, newId: ids });
    const agg = createAlertAggregator({ windowMs: 500, maxOpen: 50, newId: ids, gate: limiter });
    const out: Alert[] = [];
    for (let i = 0; i < 100_000; i++) {
      const now = i; // 1 ms apart: windows pass, aggregates close and reopen
      const key = i % 3 === 0 ? 'same' : `k${i % 97}`;
      out.push(...agg.add(draft(key, `w${i % 7}`), now).emitted);
      if (i % 100 === 0) out.push(...agg.flushDue(now), ...limiter.summaries(now));
    }
    out.push(...agg.drain(100_000), ...limiter.drainSummaries(100_000));
    assert.equal(totalCount(out), 100_000);
    assert.ok(agg.size === 0);
    const rate = out.filter((a) => !isRateLimitSummary(a)).length;
    assert.ok(rate <= 10 + 5 * 100 + 50, `${rate} snapshots admitted in 100 s at 5/s`);
  });
});
