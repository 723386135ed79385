import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { shannonEntropy } from './shannon-entropy.ts';

/** The textbook computation, one byte at a time. */
function naive(bytes: Uint8Array, from: number, to: number): number {
  const counts = new Array<number>(256).fill(0);
  for (let i = from; i < to; i++) counts[bytes[i]!]!++;
  const n = to - from;
  return counts.reduce((sum, count) => (count === 0 ? sum : sum - (count / n) * Math.log2(count / n)), 0);
}

describe('shannonEntropy', () => {
  it('equals the byte-by-byte computation at every alignment and length', () => {
    const backing = Buffer.concat([Buffer.alloc(3000, 'a'), randomBytes(5000), Buffer.from('abcabcabc'.repeat(200))]);
    for (const offset of [0, 1, 2, 3]) {
      const bytes = backing.subarray(offset);
      for (const [from, to] of [[0, bytes.length], [1, 2], [5, 9], [3, 4100], [4097, 9999]] as [number, number][]) {
        assert.equal(shannonEntropy(bytes, from, to), naive(bytes, from, Math.min(to, bytes.length)), `offset ${offset} [${from}, ${to})`);
      }
    }
  });

  it('counts every byte up to 64 KiB, at odd and even starts and ends', () => {
    const backing = Buffer.concat([randomBytes(30_000), Buffer.alloc(20_000, 'z'), randomBytes(30_000)]);
    for (const [from, to] of [[0, 65_536], [1, 65_535], [3, 50_001], [14_000, 79_536]] as [number, number][]) {
      assert.equal(shannonEntropy(backing, from, to), naive(backing, from, to), `[${from}, ${to})`);
    }
  });

  it('estimates longer ranges from spread samples closely enough to tell packed code from plain', () => {
    // Machine-code-like data (a skewed byte distribution) with a random block, as a packed payload in a binary.
    const skewed = Buffer.from(Array.from({ length: 3_000_000 }, (_, i) => (i * 7919) % 97 < 60 ? (i * 31) & 15 : (i * 13) & 255));
    const mixed = Buffer.concat([skewed, randomBytes(1_000_000), skewed.subarray(0, 2_000_000)]);
    for (const bytes of [skewed, mixed, randomBytes(5_000_000)]) {
      assert.ok(Math.abs(shannonEntropy(bytes) - naive(bytes, 0, bytes.length)) < 0.15, `${shannonEntropy(bytes)} vs ${naive(bytes, 0, bytes.length)}`);
    }
    assert.ok(shannonEntropy(randomBytes(5_000_000)) > 7.9);
    assert.ok(shannonEntropy(skewed) < 7);
  });

  it('is 0 for constant or empty data and near 8 for random data', () => {
    assert.equal(shannonEntropy(Buffer.alloc(100_000, 7)), 0);
    assert.equal(shannonEntropy(Buffer.alloc(0)), 0);
    assert.ok(shannonEntropy(randomBytes(1 << 20)) > 7.99);
  });
});
