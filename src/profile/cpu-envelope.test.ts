import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { addSample, envelopeThreshold, isAbove, quantile, type SustainedCpu } from './cpu-envelope.ts';
import { emptyAllowances } from './profile.ts';

function envelopeOf(samples: number[]) {
  return samples.reduce((envelope, cores) => addSample(envelope, cores), emptyAllowances().cpu);
}

describe('CPU envelopes', () => {
  it('puts the envelope at the p99 of the samples, not at a one-off spike', () => {
    const samples = Array.from({ length: 1000 }, (_, index) => (index === 500 ? 1.9 : 0.1 + (index % 10) * 0.01));
    const envelope = envelopeOf(samples);
    assert.equal(envelope.samples, 1000);
    assert.ok(envelope.quantileCores >= 0.19 && envelope.quantileCores <= 0.25, String(envelope.quantileCores));
    assert.equal(quantile(envelope, 1), 1.95);
  });

  it('ignores samples a broken sensor could produce, and bounds huge ones', () => {
    const envelope = envelopeOf([0.1, Number.NaN, -1, Number.POSITIVE_INFINITY]);
    assert.equal(envelope.samples, 1);
    const huge = envelopeOf([1e12]);
    assert.ok(huge.histogram.length <= 256 / huge.bucketCores + 1);
  });

  it('flags only use sustained above the envelope by the margin', () => {
    const envelope = envelopeOf(Array.from({ length: 100 }, () => 0.05));
    assert.equal(envelopeThreshold(envelope), 0.3); // 0.1 × 1.5 is below 0.1 + 0.2
    let state: SustainedCpu = { consecutive: 0 };
    const verdicts: boolean[] = [];
    for (const cores of [0.9, 0.9, 0.05, 0.9, 0.9, 0.9, 0.9]) {
      const result = isAbove(envelope, cores, state);
      state = result.state;
      verdicts.push(result.sustained);
    }
    assert.deepEqual(verdicts, [false, false, false, false, false, true, true]);
  });

  it('uses the factor when it is the larger margin', () => {
    const envelope = envelopeOf(Array.from({ length: 100 }, () => 1.0));
    assert.equal(envelopeThreshold(envelope), 1.575);
    assert.equal(isAbove(envelope, 1.5, { consecutive: 5 }).above, false);
  });

  it('judges nothing without a learned baseline', () => {
    const result = isAbove(emptyAllowances().cpu, 4, { consecutive: 10 });
    assert.equal(result.sustained, false);
  });
});
