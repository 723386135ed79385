import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AdmissionSlots } from './agent-admission.ts';

describe('AdmissionSlots', () => {
  it('runs at most its slots at once, the rest in arrival order', async () => {
    const slots = new AdmissionSlots(2);
    let running = 0;
    let most = 0;
    const started: number[] = [];
    const releases: (() => void)[] = [];
    const jobs = Array.from({ length: 5 }, (_, i) =>
      slots.run(async () => {
        started.push(i);
        running += 1;
        most = Math.max(most, running);
        await new Promise<void>((resolve) => releases.push(resolve));
        running -= 1;
        return i;
      }),
    );
    while (releases.length < 2) await new Promise((resolve) => setImmediate(resolve));
    assert.equal(slots.waiting, 3);
    for (let done = 0; done < 5; done += 1) {
      while (releases.length === 0) await new Promise((resolve) => setImmediate(resolve));
      releases.shift()!();
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.deepEqual(await Promise.all(jobs), [0, 1, 2, 3, 4]);
    assert.deepEqual(started, [0, 1, 2, 3, 4]);
    assert.equal(most, 2);
  });

  // Regression: on SQLite each batch runs synchronously, and batches that arrived together ran back to back in one
  // turn of the event loop, so a viewer's request waited seconds for the turn to end.
  it('starts at most one waiting job per turn of the event loop, so other work runs in between', async () => {
    const slots = new AdmissionSlots(1);
    const order: string[] = [];
    const jobs = [0, 1, 2].map((i) => slots.run(async () => void order.push(`job-${i}`)));
    setImmediate(() => order.push('other'));
    await Promise.all(jobs);
    assert.deepEqual(order, ['job-0', 'other', 'job-1', 'job-2']);
  });

  it('frees the slot when the work fails', async () => {
    const slots = new AdmissionSlots(1);
    await assert.rejects(slots.run(async () => Promise.reject(new Error('store down'))), /store down/);
    assert.equal(await slots.run(async () => 'next'), 'next');
  });
});
