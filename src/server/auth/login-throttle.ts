/**
 * Login throttling: fixed windows counting every attempt per client address and failed attempts per username.
 * In memory (one server process); a Map in insertion order forgets the oldest keys first when full.
 */
export interface ThrottleRule {
  limit: number;
  windowMs: number;
}

interface Window {
  startedAt: number;
  count: number;
}

export class AttemptCounter {
  readonly #windows = new Map<string, Window>();
  constructor(
    readonly rule: ThrottleRule,
    readonly maxKeys: number,
  ) {}

  /** Seconds until `key` may try again, or 0 when it may now. */
  retryAfterSeconds(key: string, now: number): number {
    const window = this.#current(key, now);
    if (!window || window.count < this.rule.limit) return 0;
    return Math.max(1, Math.ceil((window.startedAt + this.rule.windowMs - now) / 1000));
  }

  record(key: string, now: number): void {
    const window = this.#current(key, now);
    if (window) {
      window.count += 1;
      return;
    }
    if (this.#windows.size >= this.maxKeys) {
      const oldest = this.#windows.keys().next().value;
      if (oldest !== undefined) this.#windows.delete(oldest);
    }
    this.#windows.set(key, { startedAt: now, count: 1 });
  }

  forget(key: string): void {
    this.#windows.delete(key);
  }

  #current(key: string, now: number): Window | undefined {
    const window = this.#windows.get(key);
    if (window && window.startedAt + this.rule.windowMs <= now) {
      this.#windows.delete(key);
      return undefined;
    }
    return window;
  }
}
