import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BoundedQueue } from './bounded-queue.ts';

describe('BoundedQueue', () => {
  it('keeps items in order and drops the newest with a count by kind when full', () => {
    const queue = new BoundedQueue<{ type: string; n: number }>(3, (item) => item.type);
    for (let n = 0; n < 5; n += 1) queue.push({ type: n % 2 ? 'exec' : 'connect', n });
    assert.deepEqual([queue.shift()?.n, queue.shift()?.n, queue.shift()?.n, queue.shift()], [0, 1, 2, undefined]);
    const stats = queue.stats();
    assert.equal(stats.dropped, 2);
    assert.deepEqual(stats.droppedByKind, { exec: 1, connect: 1 });
    assert.equal(stats.highWater, 3);
  });

  it('never holds more than its capacity during a burst far beyond it', () => {
    const queue = new BoundedQueue<number>(1000);
    for (let n = 0; n < 1_000_000; n += 1) queue.push(n);
    assert.equal(queue.length, 1000);
    assert.equal(queue.stats().dropped, 999_000);
    assert.equal(queue.shift(), 0);
  });

  it('wakes a waiting consumer when an item arrives, and on abort', async () => {
    const queue = new BoundedQueue<number>(2);
    const waiting = queue.waitForItem();
    setTimeout(() => queue.push(7), 5);
    await waiting;
    assert.equal(queue.shift(), 7);
    const controller = new AbortController();
    const aborted = queue.waitForItem(controller.signal);
    controller.abort();
    await aborted;
    assert.equal(queue.length, 0);
  });

  it('refuses a capacity that is not a positive integer', () => {
    assert.throws(() => new BoundedQueue(0), /positive integer/);
  });
});
