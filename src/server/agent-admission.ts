/**
 * Agents yield to people. Fifty agents each with a batch in flight would otherwise crowd out a viewer's page. On
 * SQLite one transaction runs at a time (the writer thread, sqlite-worker-dialect.ts), so batches that arrive
 * together would all queue for it ahead of a person's write. On PostgreSQL the pool has a few connections, which
 * agents' transactions would all take. So agent
 * requests (batches, sync) run their handler through a few slots, in arrival order, already authenticated and
 * parsed but holding no connection while they wait, and at most one of them starts per turn of the event loop:
 * between two batches the loop reads what else arrived. People's requests never wait for a slot. Throughput does
 * not suffer: SQLite writes one transaction at a time anyway, and on PostgreSQL the slots are most of the pool.
 */
import type { Kysely } from 'kysely';
import { isPostgres } from '../store/store-dialect.ts';

/** One on SQLite (its writes are serial); on PostgreSQL four, leaving the rest of the pool (10) to people. */
export function agentSlotsFor(db: Kysely<any>): number {
  return isPostgres(db) ? 4 : 1;
}

export class AdmissionSlots {
  #free: number;
  #scheduled = false;
  readonly #waiting: (() => void)[] = [];

  constructor(readonly slots: number) {
    this.#free = slots;
  }

  /** Runs `work` in a slot, after those that came before it. */
  run<T>(work: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#waiting.push(() => {
        work()
          .then(resolve, reject)
          .finally(() => {
            this.#free += 1;
            this.#schedule();
          });
      });
      this.#schedule();
    });
  }

  get waiting(): number {
    return this.#waiting.length;
  }

  /** Admits the next waiter on the next turn of the event loop (setImmediate runs after that turn's I/O). */
  #schedule(): void {
    if (this.#scheduled || this.#free === 0 || this.#waiting.length === 0) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      if (this.#free === 0) return;
      const next = this.#waiting.shift();
      if (!next) return;
      this.#free -= 1;
      next();
      // One per turn: an immediate queued now runs on the next turn, after its I/O.
      this.#schedule();
    });
  }
}
