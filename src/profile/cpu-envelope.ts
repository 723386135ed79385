/**
 * CPU envelopes: how many cores a workload uses, as a histogram of samples and a high quantile of it (p99 by
 * default). A throttled miner still burns more than the workload did, so sustained use beyond the envelope — by a
 * margin, for several samples in a row — is a deviation; a single spike is not.
 */
import type { CpuEnvelope } from './profile.ts';

export const defaultEnvelopeQuantile = 0.99;
/** Samples above this many cores count in the last bucket: the histogram stays bounded whatever a sensor reports. */
export const maxEnvelopeCores = 256;

export interface EnvelopeMargin {
  /** Above envelope × factor … */
  factor: number;
  /** … and at least this many cores above the envelope (an idle workload's 0.01 cores × 1.5 is noise). */
  minExtraCores: number;
  /** Consecutive samples above the threshold before it is a deviation. */
  sustainedSamples: number;
}

export const defaultEnvelopeMargin: EnvelopeMargin = { factor: 1.5, minExtraCores: 0.2, sustainedSamples: 3 };

/** Per-entity state of the CPU detector: samples in a row above the threshold. Kept by the caller, passed in. */
export interface SustainedCpu {
  consecutive: number;
}

/** The cores at quantile `q`: the upper edge of the bucket where the cumulative count reaches q × samples. */
export function quantile(envelope: CpuEnvelope, q = defaultEnvelopeQuantile): number {
  if (envelope.samples === 0) return 0;
  const wanted = Math.max(1, Math.ceil(Math.min(1, Math.max(0, q)) * envelope.samples));
  let seen = 0;
  for (let index = 0; index < envelope.histogram.length; index++) {
    seen += envelope.histogram[index] ?? 0;
    if (seen >= wanted) return round((index + 1) * envelope.bucketCores);
  }
  return round(envelope.histogram.length * envelope.bucketCores);
}

function round(cores: number): number {
  return Math.round(cores * 1000) / 1000;
}

/** A new envelope with the sample counted; a negative, NaN or infinite sample is ignored (a sensor glitch). */
export function addSample(envelope: CpuEnvelope, cores: number, q = defaultEnvelopeQuantile): CpuEnvelope {
  if (!Number.isFinite(cores) || cores < 0 || !(envelope.bucketCores > 0)) return envelope;
  // The epsilon keeps 1.9 / 0.05 (37.99999…) in bucket 38, where a person would put it.
  const bucket = Math.floor(Math.min(cores, maxEnvelopeCores) / envelope.bucketCores + 1e-9);
  const histogram = envelope.histogram.slice();
  while (histogram.length <= bucket) histogram.push(0);
  histogram[bucket] = (histogram[bucket] ?? 0) + 1;
  const next = { ...envelope, histogram, samples: envelope.samples + 1 };
  return { ...next, quantileCores: quantile(next, q) };
}

/** Cores above which a sample counts against the envelope. */
export function envelopeThreshold(envelope: CpuEnvelope, margin: EnvelopeMargin = defaultEnvelopeMargin): number {
  return round(Math.max(envelope.quantileCores * margin.factor, envelope.quantileCores + margin.minExtraCores));
}

export interface AboveResult {
  /** This sample is above the threshold. */
  above: boolean;
  /** It has been for `sustainedSamples` samples in a row: a deviation. */
  sustained: boolean;
  threshold: number;
  state: SustainedCpu;
}

/**
 * Feeds one sample to the detector. An envelope without samples (the sensor gave no CPU data while learning)
 * judges nothing: there is no baseline to be above.
 */
export function isAbove(envelope: CpuEnvelope, cores: number, state: SustainedCpu = { consecutive: 0 }, margin: EnvelopeMargin = defaultEnvelopeMargin): AboveResult {
  const threshold = envelopeThreshold(envelope, margin);
  if (envelope.samples === 0 || !Number.isFinite(cores)) return { above: false, sustained: false, threshold, state: { consecutive: 0 } };
  const above = cores > threshold;
  const consecutive = above ? state.consecutive + 1 : 0;
  return { above, sustained: consecutive >= margin.sustainedSamples, threshold, state: { consecutive } };
}

/** The counts of `envelope` in buckets of `bucketCores`: each bucket moves to the one holding its lower edge. */
export function rebucket(envelope: CpuEnvelope, bucketCores: number): number[] {
  if (envelope.bucketCores === bucketCores || !(bucketCores > 0)) return envelope.histogram.slice();
  const histogram: number[] = [];
  envelope.histogram.forEach((count, index) => {
    if (!count) return;
    const bucket = Math.floor(Math.min(index * envelope.bucketCores, maxEnvelopeCores) / bucketCores + 1e-9);
    while (histogram.length <= bucket) histogram.push(0);
    histogram[bucket] = (histogram[bucket] ?? 0) + count;
  });
  return histogram;
}

function envelopeOf(histogram: number[], bucketCores: number, q: number): CpuEnvelope {
  // Trailing empty buckets carry nothing: trimmed, so equal sums serialise equally.
  let length = histogram.length;
  while (length > 0 && !histogram[length - 1]) length--;
  const trimmed = histogram.slice(0, length);
  const next = { histogram: trimmed, bucketCores, samples: trimmed.reduce((sum, count) => sum + count, 0), quantileCores: 0 };
  return { ...next, quantileCores: quantile(next, q) };
}

/**
 * The samples of several envelopes together (several nodes' share of one workload), in the buckets of the first
 * (or `bucketCores`), with the quantile recomputed over the sum.
 */
export function sumEnvelopes(envelopes: readonly CpuEnvelope[], bucketCores = envelopes[0]?.bucketCores ?? 0.05, q = defaultEnvelopeQuantile): CpuEnvelope {
  const histogram: number[] = [];
  for (const envelope of envelopes) {
    rebucket(envelope, bucketCores).forEach((count, index) => {
      while (histogram.length <= index) histogram.push(0);
      histogram[index] = (histogram[index] ?? 0) + count;
    });
  }
  return envelopeOf(histogram, bucketCores, q);
}

/** `total` without `part`, bucket by bucket and never below zero: one node's own samples out of a fleet's sum. */
export function subtractEnvelope(total: CpuEnvelope, part: CpuEnvelope, q = defaultEnvelopeQuantile): CpuEnvelope {
  const removed = rebucket(part, total.bucketCores);
  const histogram = total.histogram.map((count, index) => Math.max(0, count - (removed[index] ?? 0)));
  return envelopeOf(histogram, total.bucketCores, q);
}
