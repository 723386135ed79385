/**
 * Alert rate limit: a token bucket per workload and a global one, so one noisy workload cannot drown the others
 * and a node-wide storm cannot drown the outputs. It is the aggregator's `EmissionGate`: a snapshot without a token
 * stays held in its aggregate (which keeps counting) and goes out later, when tokens return; an aggregate that must
 * close while still held (evicted, or shutdown) has its uncounted occurrences folded into a summary alert per
 * workload and rule ("412 more file-write-not-allowed alerts for workload X were rate-limited"), itself aggregated
 * and updated at most once per window. Every occurrence is counted exactly once, in an alert or in a summary. Pure:
 * time and ids are passed in.
 */
import { alertRules, type Alert } from './alert.ts';
import { createAlertAggregator, defaultAggregationWindowMs, type EmissionGate } from './aggregate.ts';

export interface TokenBucketRate {
  /** Tokens added per second. */
  perSecond: number;
  /** Tokens held at most: the burst allowed after a quiet spell. */
  burst: number;
}

/** A workload may send 5 alerts a second after a burst of 50; the node 50 a second after a burst of 500. */
export const defaultWorkloadAlertRate: TokenBucketRate = { perSecond: 5, burst: 50 };
export const defaultGlobalAlertRate: TokenBucketRate = { perSecond: 50, burst: 500 };
/** Workload buckets kept at most; beyond it the least recently used is forgotten (it comes back full). */
export const maxRateLimitedWorkloads = 10_000;
/** Summary alerts (workload × rule) open at most; beyond it, summaries of further workloads share one per rule. */
export const maxRateLimitSummaries = 1_000;

/** dedupeKey prefix of summary alerts. */
export const rateLimitSummaryPrefix = 'rate-limited|';
/** The workload a summary names when it stands for every workload beyond `maxRateLimitSummaries`. */
export const anyWorkload = '*';

interface Bucket {
  tokens: number;
  at: number;
}

function refill(bucket: Bucket, rate: TokenBucketRate, now: number): void {
  // A clock that steps back adds nothing rather than taking tokens away.
  if (now > bucket.at) {
    bucket.tokens = Math.min(rate.burst, bucket.tokens + ((now - bucket.at) * rate.perSecond) / 1000);
    bucket.at = now;
  }
}

export interface AlertRateLimiterOptions {
  workload?: TokenBucketRate;
  global?: TokenBucketRate;
  maxWorkloads?: number;
  maxSummaries?: number;
  /** Summaries are updated at most once per window (the aggregation window by default). */
  summaryWindowMs?: number;
  newId: () => string;
}

export interface AlertRateLimiterStats {
  /** Snapshots admitted. */
  admitted: number;
  /** Admission attempts refused for want of a token. */
  refused: number;
  /** Occurrences folded into summaries. */
  folded: number;
  /** Summary alerts opened. */
  summaries: number;
}

export interface AlertRateLimiter extends EmissionGate {
  /** Summary snapshots to emit now (new summaries, and updates whose window has passed). */
  summaries(now: number): Alert[];
  /** Every summary with occurrences not yet emitted: shutdown. */
  drainSummaries(now: number): Alert[];
  stats(): AlertRateLimiterStats;
}

export function isRateLimitSummary(alert: Pick<Alert, 'dedupeKey'>): boolean {
  return alert.dedupeKey.startsWith(rateLimitSummaryPrefix);
}

function describeSummary(summary: Alert): Alert {
  const whose = summary.workload === anyWorkload ? 'workloads beyond the summary limit' : `workload ${summary.workload}`;
  const times = summary.count === 1 ? 'alert' : 'alerts';
  return {
    ...summary,
    message: `${summary.count} more ${summary.rule} ${times} for ${whose} went over the alert rate limit and are counted here instead of one by one. Latest: ${summary.message}`,
  };
}

export function createAlertRateLimiter(options: AlertRateLimiterOptions): AlertRateLimiter {
  const workloadRate = options.workload ?? defaultWorkloadAlertRate;
  const globalRate = options.global ?? defaultGlobalAlertRate;
  const maxWorkloads = Math.max(1, options.maxWorkloads ?? maxRateLimitedWorkloads);
  const maxSummaries = Math.max(1, options.maxSummaries ?? maxRateLimitSummaries);
  let global: Bucket | undefined;
  const workloads = new Map<string, Bucket>();
  const stats: AlertRateLimiterStats = { admitted: 0, refused: 0, folded: 0, summaries: 0 };
  // Summaries are aggregates themselves; they pass no gate (the window and the summary limit bound them).
  const summaryAggregates = createAlertAggregator({
    windowMs: options.summaryWindowMs ?? defaultAggregationWindowMs,
    maxOpen: maxSummaries + alertRules.length,
    newId: options.newId,
  });
  // Summary snapshots emitted by folds between two calls of summaries(); the latest per id is enough.
  const ready = new Map<string, Alert>();

  function workloadBucket(workload: string, now: number): Bucket {
    let bucket = workloads.get(workload);
    if (bucket) {
      workloads.delete(workload);
    } else {
      bucket = { tokens: workloadRate.burst, at: now };
      // The least recently used bucket is the one most likely full again; forgetting one that is not lets its
      // workload burst once more, which the global bucket still bounds.
      if (workloads.size >= maxWorkloads) workloads.delete(workloads.keys().next().value as string);
    }
    workloads.set(workload, bucket);
    return bucket;
  }

  function summaryKey(workload: string, rule: Alert['rule']): string {
    return `${rateLimitSummaryPrefix}${workload}|${rule}`;
  }

  return {
    admit(alert, now) {
      global ??= { tokens: globalRate.burst, at: now };
      refill(global, globalRate, now);
      const bucket = workloadBucket(alert.workload, now);
      refill(bucket, workloadRate, now);
      if (global.tokens < 1 || bucket.tokens < 1) {
        stats.refused += 1;
        return false;
      }
      global.tokens -= 1;
      bucket.tokens -= 1;
      stats.admitted += 1;
      return true;
    },

    fold(alert, occurrences, now) {
      let workload = alert.workload;
      if (!summaryAggregates.has(summaryKey(workload, alert.rule)) && summaryAggregates.size >= maxSummaries) workload = anyWorkload;
      // The closed aggregate's alert is ours now: it becomes the summary's latest occurrence.
      alert.dedupeKey = summaryKey(workload, alert.rule);
      alert.workload = workload;
      const { isNew, emitted } = summaryAggregates.add(alert, now, occurrences);
      stats.folded += occurrences;
      if (isNew) stats.summaries += 1;
      for (const snapshot of emitted) ready.set(snapshot.id, snapshot);
    },

    summaries(now) {
      for (const snapshot of summaryAggregates.flushDue(now)) ready.set(snapshot.id, snapshot);
      const out = [...ready.values()].map(describeSummary);
      ready.clear();
      return out;
    },

    drainSummaries(now) {
      for (const snapshot of summaryAggregates.drain(now)) ready.set(snapshot.id, snapshot);
      const out = [...ready.values()].map(describeSummary);
      ready.clear();
      return out;
    },

    stats: () => ({ ...stats }),
  };
}
