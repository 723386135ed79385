import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SharedSlab } from './shared-slab.ts';

const settledWithin = async <T>(promise: Promise<T>): Promise<T | 'pending'> => Promise.race([promise, new Promise<'pending'>((resolve) => setImmediate(() => resolve('pending')))]);

describe('SharedSlab', () => {
  it('hands out regions one after another and wraps around to the start once the oldest are released', async () => {
    const slab = new SharedSlab(100);
    const a = await slab.reserve(40);
    const b = await slab.reserve(40);
    assert.deepEqual([a.offset, b.offset], [0, 40]);
    const c = slab.reserve(30);
    assert.equal(await settledWithin(c), 'pending', 'only 20 bytes are left at the end, and the start is held');
    slab.release(a);
    assert.equal((await c).offset, 0);
    assert.equal(slab.held, 70);
  });

  it('waits behind the oldest region even when a newer one is released first (a ring, in request order)', async () => {
    const slab = new SharedSlab(100);
    const a = await slab.reserve(50);
    const b = await slab.reserve(50);
    const c = slab.reserve(50);
    slab.release(b);
    assert.equal(await settledWithin(c), 'pending');
    slab.release(a);
    assert.equal((await c).offset, 0);
  });

  it('serves waiting requests in order, so a large one is not starved by small ones', async () => {
    const slab = new SharedSlab(100);
    const a = await slab.reserve(90);
    const large = slab.reserve(80);
    const small = slab.reserve(5);
    assert.equal(await settledWithin(small), 'pending', 'the small request queues behind the large one');
    slab.release(a);
    assert.equal((await large).offset, 0);
    assert.equal((await small).offset, 80);
  });

  it('gives a file larger than the ring the whole slab once it is empty', async () => {
    const slab = new SharedSlab(100, 30);
    const a = await slab.reserve(20);
    const big = slab.reserve(60);
    assert.equal(await settledWithin(big), 'pending');
    slab.release(a);
    const region = await big;
    assert.deepEqual([region.offset, region.size], [0, 60]);
    const after = slab.reserve(10);
    assert.equal(await settledWithin(after), 'pending', 'nothing shares the slab with it');
  });

  it('refuses impossible sizes and shrugs off a region released twice', async () => {
    const slab = new SharedSlab(16);
    assert.throws(() => slab.reserve(17), RangeError);
    assert.throws(() => slab.reserve(0), RangeError);
    const a = await slab.reserve(8);
    const b = await slab.reserve(8);
    slab.release(a);
    slab.release(a);
    assert.equal(slab.held, 8);
    slab.release(b);
    assert.equal(slab.held, 0);
    assert.equal((await slab.reserve(16)).offset, 0);
  });
});
