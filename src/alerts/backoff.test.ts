import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelayMs } from './backoff.ts';

const policy = { baseMs: 100, maxMs: 5000 };

describe('retry backoff', () => {
  it('doubles with each failure, between half and all of the ceiling', () => {
    assert.equal(backoffDelayMs(1, policy, () => 0), 50);
    assert.equal(backoffDelayMs(1, policy, () => 0.999_999), 100);
    assert.equal(backoffDelayMs(2, policy, () => 0), 100);
    assert.equal(backoffDelayMs(4, policy, () => 0), 400);
  });

  it('never exceeds the maximum, however many failures', () => {
    for (const failures of [7, 50, 1000, Number.MAX_SAFE_INTEGER]) {
      const delay = backoffDelayMs(failures, policy, () => 0.999_999);
      assert.ok(delay <= 5000 && delay >= 2500, `${failures}: ${delay}`);
    }
  });

  it('spreads retries of many clients apart', () => {
    const delays = new Set(Array.from({ length: 50 }, () => backoffDelayMs(5, policy)));
    assert.ok(delays.size > 10);
  });

  it('treats a nonsensical failure count as the first', () => {
    assert.equal(backoffDelayMs(0, policy, () => 0), 50);
    assert.equal(backoffDelayMs(-3, policy, () => 0), 50);
  });
});
