import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { createLowering, maxLoweredBytes, wordLowering } from './ascii-lowering.ts';

/** Lower case the slow, obvious way: only A-Z change. */
const expected = (bytes: Uint8Array) => Buffer.from(Array.from(bytes, (b) => (b >= 0x41 && b <= 0x5a ? b + 32 : b)));

describe('ASCII lowering', () => {
  const simd = createLowering();
  const words = wordLowering();

  it('uses WebAssembly SIMD on this machine', () => assert.equal(simd.simd, true));

  it('lowers A-Z only, leaving every other byte (latin1 letters included) as it was', () => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    for (const lowering of [simd, words]) assert.deepEqual(lowering.lower(all, 0, 256), expected(all), `simd: ${lowering.simd}`);
  });

  it('gives the same bytes at every alignment and length, up to its limit', () => {
    const backing = randomBytes(maxLoweredBytes + 64);
    for (const lowering of [simd, words]) {
      for (const [start, end] of [[0, 0], [1, 2], [3, 20], [5, 70_001], [7, maxLoweredBytes + 7]] as [number, number][]) {
        assert.ok(lowering.lower(backing, start, end).equals(expected(backing.subarray(start, end))), `simd ${lowering.simd}: [${start}, ${end})`);
      }
      assert.throws(() => lowering.lower(backing, 0, maxLoweredBytes + 1), RangeError);
    }
  });
});
