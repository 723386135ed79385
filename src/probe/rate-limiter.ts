/**
 * Rate limiter: a token bucket shared by every request of a run, so probing many endpoints at once still starts
 * no more than `requestsPerSecond` connections or requests per second (a polite ceiling on shared networks).
 */
import { setTimeout as sleep } from 'node:timers/promises';

export interface RateLimiter {
  /** Resolves when one more request may start; rejects when `signal` aborts first. */
  take(signal?: AbortSignal): Promise<void>;
}

export function createRateLimiter(perSecond: number, now: () => number = () => performance.now()): RateLimiter {
  if (!Number.isFinite(perSecond) || perSecond <= 0) return { take: async () => undefined };
  const interval = 1000 / perSecond;
  // A burst of up to one second's worth is allowed; beyond it requests are spaced evenly.
  const burst = Math.max(1, Math.ceil(perSecond));
  let tokens = burst;
  let refilledAt = now();
  let queue = Promise.resolve();
  return {
    take(signal) {
      const turn = queue.then(async () => {
        for (;;) {
          const t = now();
          tokens = Math.min(burst, tokens + (t - refilledAt) / interval);
          refilledAt = t;
          if (tokens >= 1) {
            tokens -= 1;
            return;
          }
          await sleep(Math.ceil((1 - tokens) * interval), undefined, signal ? { signal } : undefined);
        }
      });
      // One waiter's abort must not poison the queue for the others.
      queue = turn.catch(() => undefined);
      return turn;
    },
  };
}
