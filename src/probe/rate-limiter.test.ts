import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { createRateLimiter } from './rate-limiter.ts';

describe('createRateLimiter', () => {
  it('lets a burst of one second through, then spaces requests at the rate', async () => {
    const limiter = createRateLimiter(20);
    const started = performance.now();
    for (let i = 0; i < 30; i++) await limiter.take();
    const elapsed = performance.now() - started;
    // 20 at once, then 10 more at 50 ms each.
    assert.ok(elapsed >= 400 && elapsed < 1_500, `took ${elapsed} ms`);
  });

  it('gives up on abort without blocking later waiters', async () => {
    const limiter = createRateLimiter(1);
    await limiter.take();
    const controller = new AbortController();
    const waiting = limiter.take(controller.signal);
    controller.abort();
    await assert.rejects(waiting);
  });
});
