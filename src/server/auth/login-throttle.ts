/**
 * Login throttling: fixed windows counting every attempt per client address and failed attempts per username. The
 * counts live in the store (table server_login_attempts), so every replica of the console behind a load balancer
 * counts the same attempts, and a restart does not reset them. A window starts at a key's first attempt; one
 * upsert both counts an attempt and reads the count, so two replicas racing cannot both let the last one through.
 * Keys are kept as SHA-256 digests (people type passwords into username fields). Rows of ended windows are cleared
 * as new attempts come in, and the table never holds more than `maxKeys` keys per throttle: the oldest go first.
 */
import { sql } from 'kysely';
import type { ServerStore } from '../server-store.ts';
import { digestSecret } from './secret-token.ts';

export interface ThrottleRule {
  limit: number;
  windowMs: number;
}

interface Window {
  window_start: number;
  count: number;
}

// Clearing ended windows costs a query, so each counter does it at most this often.
const pruneIntervalMs = 1_000;

export class AttemptCounter {
  readonly #db: ServerStore;
  #prunedAt = Number.NEGATIVE_INFINITY;

  constructor(
    db: ServerStore,
    /** Names this throttle's rows: `ip`, `user`. */
    readonly scope: string,
    readonly rule: ThrottleRule,
    readonly maxKeys: number,
  ) {
    this.#db = db;
  }

  /** Seconds until `key` may try again, or 0 when it may now. */
  async retryAfterSeconds(key: string, now: number): Promise<number> {
    const window = await this.#db
      .selectFrom('server_login_attempts')
      .select(['window_start', 'count'])
      .where('scope', '=', this.scope)
      .where('key_hash', '=', digestSecret(key))
      .executeTakeFirst();
    return this.#wait(window, now, this.rule.limit);
  }

  /** Counts one attempt. Seconds to wait when this attempt is over the limit (refuse it), else 0. */
  async record(key: string, now: number): Promise<number> {
    const ended = sql<boolean>`server_login_attempts.window_start + ${this.rule.windowMs} <= ${now}`;
    const window = await this.#db
      .insertInto('server_login_attempts')
      .values({ scope: this.scope, key_hash: digestSecret(key), window_start: now, count: 1 })
      .onConflict((conflict) =>
        conflict.columns(['scope', 'key_hash']).doUpdateSet({
          count: sql<number>`case when ${ended} then 1 else server_login_attempts.count + 1 end`,
          window_start: sql<number>`case when ${ended} then ${now} else server_login_attempts.window_start end`,
        }),
      )
      .returning(['window_start', 'count'])
      .executeTakeFirstOrThrow();
    await this.#prune(now);
    return this.#wait(window, now, this.rule.limit + 1);
  }

  async forget(key: string): Promise<void> {
    await this.#db.deleteFrom('server_login_attempts').where('scope', '=', this.scope).where('key_hash', '=', digestSecret(key)).execute();
  }

  /** The wait when the window holds `blockedAt` attempts or more. */
  #wait(window: Window | undefined, now: number, blockedAt: number): number {
    if (!window || window.window_start + this.rule.windowMs <= now || window.count < blockedAt) return 0;
    return Math.max(1, Math.ceil((window.window_start + this.rule.windowMs - now) / 1000));
  }

  async #prune(now: number): Promise<void> {
    if (now - this.#prunedAt < pruneIntervalMs && now >= this.#prunedAt) return;
    this.#prunedAt = now;
    await this.#db.deleteFrom('server_login_attempts').where('scope', '=', this.scope).where('window_start', '<=', now - this.rule.windowMs).execute();
    // The newest `maxKeys` windows stay; any older ones go, however many distinct keys a flood brought.
    const oldestKept = await this.#db
      .selectFrom('server_login_attempts')
      .select('window_start')
      .where('scope', '=', this.scope)
      .orderBy('window_start', 'desc')
      .limit(1)
      .offset(this.maxKeys - 1)
      .executeTakeFirst();
    if (oldestKept) await this.#db.deleteFrom('server_login_attempts').where('scope', '=', this.scope).where('window_start', '<', oldestKept.window_start).execute();
  }
}
