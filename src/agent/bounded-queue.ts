/**
 * A bounded queue between a producer that must never wait (a sensor reading a kernel buffer) and a consumer that
 * may be slow (hashing, attribution, judging). A full queue drops the newest item and counts it by kind, so a
 * burst costs events, never memory or a blocked sensor, and the loss is visible in the agent's status.
 */
export interface QueueStats {
  capacity: number;
  depth: number;
  /** Highest depth seen. */
  highWater: number;
  enqueued: number;
  dequeued: number;
  dropped: number;
  droppedByKind: Record<string, number>;
}

export class BoundedQueue<T> {
  private readonly items: (T | undefined)[];
  private head = 0;
  private size = 0;
  private waiter: (() => void) | undefined;
  private readonly counters = { highWater: 0, enqueued: 0, dequeued: 0, dropped: 0 };
  private readonly droppedByKind: Record<string, number> = {};

  constructor(
    readonly capacity: number,
    private readonly kindOf: (item: T) => string = () => 'item',
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`queue capacity must be a positive integer, got ${capacity}`);
    this.items = new Array(capacity);
  }

  /** Adds an item unless the queue is full; never blocks. Returns false when the item was dropped. */
  push(item: T): boolean {
    if (this.size === this.capacity) {
      this.counters.dropped += 1;
      const kind = this.kindOf(item);
      this.droppedByKind[kind] = (this.droppedByKind[kind] ?? 0) + 1;
      return false;
    }
    this.items[(this.head + this.size) % this.capacity] = item;
    this.size += 1;
    this.counters.enqueued += 1;
    if (this.size > this.counters.highWater) this.counters.highWater = this.size;
    const wake = this.waiter;
    if (wake) {
      this.waiter = undefined;
      wake();
    }
    return true;
  }

  shift(): T | undefined {
    if (this.size === 0) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head = (this.head + 1) % this.capacity;
    this.size -= 1;
    this.counters.dequeued += 1;
    return item;
  }

  get length(): number {
    return this.size;
  }

  /** Resolves when an item is available (at once if one is) or the signal aborts. One waiter at a time. */
  waitForItem(signal?: AbortSignal): Promise<void> {
    if (this.size > 0 || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        signal?.removeEventListener('abort', done);
        this.waiter = undefined;
        resolve();
      };
      this.waiter = done;
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  stats(): QueueStats {
    return { capacity: this.capacity, depth: this.size, ...this.counters, droppedByKind: { ...this.droppedByKind } };
  }
}
