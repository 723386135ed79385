import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AttemptCounter } from './login-throttle.ts';

describe('AttemptCounter', () => {
  it('lets the limit through, then asks to wait until the window ends', () => {
    const counter = new AttemptCounter({ limit: 3, windowMs: 60_000 }, 100);
    for (let i = 0; i < 3; i += 1) {
      assert.equal(counter.retryAfterSeconds('a', 1_000), 0);
      counter.record('a', 1_000);
    }
    assert.equal(counter.retryAfterSeconds('a', 1_000), 60);
    assert.equal(counter.retryAfterSeconds('a', 31_000), 30);
    assert.equal(counter.retryAfterSeconds('a', 61_000), 0);
  });

  it('counts keys apart and forgets a key on request', () => {
    const counter = new AttemptCounter({ limit: 1, windowMs: 1_000 }, 100);
    counter.record('a', 0);
    assert.ok(counter.retryAfterSeconds('a', 0) > 0);
    assert.equal(counter.retryAfterSeconds('b', 0), 0);
    counter.forget('a');
    assert.equal(counter.retryAfterSeconds('a', 0), 0);
  });

  it('stays bounded under many distinct keys, dropping the oldest', () => {
    const counter = new AttemptCounter({ limit: 1, windowMs: 60_000 }, 2);
    counter.record('first', 0);
    counter.record('second', 0);
    counter.record('third', 0);
    assert.equal(counter.retryAfterSeconds('first', 0), 0);
    assert.ok(counter.retryAfterSeconds('third', 0) > 0);
  });
});
