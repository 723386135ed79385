/**
 * Backoff: how long to wait before retrying something that failed, growing exponentially with each failure up to a
 * ceiling, with jitter so that many agents whose receiver came back do not all retry in the same instant. "Equal
 * jitter": half the delay is fixed, half random, so a retry never comes at once.
 */
export interface BackoffPolicy {
  /** Delay ceiling after the first failure. */
  baseMs: number;
  /** Delay ceiling however many failures there were. */
  maxMs: number;
}

/** Delay before the try following failure number `failures` (1 for the first). `random` returns [0, 1). */
export function backoffDelayMs(failures: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(failures, 1) - 1, 40);
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** exponent);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
