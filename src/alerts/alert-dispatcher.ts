/**
 * Alert dispatcher: the pipeline from a detector's deviation to every output.
 *
 *   submit(draft) ─▶ aggregate (one alert per dedupeKey, count grows) ─▶ rate limit (held, or folded into a summary)
 *                 ─▶ outbox (on disk, synced) ─▶ one delivery loop per output, each from its own cursor
 *
 * `submit` is synchronous and never waits on disk or network: the enforcement path that calls it must not. Emitted
 * snapshots are written to the outbox as one batch per turn of the event loop (group commit: whatever was emitted
 * while the previous batch was being synced goes in the next one), so an alert is on disk within one fsync of being
 * emitted. Each output reads from the outbox in its own loop: one that is down retries with backoff and delays
 * only itself; on restart whatever it had not acknowledged is replayed. Delivery is at least once.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Alert } from './alert.ts';
import type { AlertOutput, DeliveryResult } from './alert-output.ts';
import { createAlertAggregator, defaultAggregationWindowMs, maxOpenAlertAggregates, type AlertDraft } from './aggregate.ts';
import { backoffDelayMs, type BackoffPolicy } from './backoff.ts';
import { openOutbox, type OutboxStats } from './outbox.ts';
import { createAlertRateLimiter, type TokenBucketRate } from './rate-limit.ts';

/** Characters kept of each free-text field of a draft (argv can be anything a miner chooses); the rest becomes '…'. */
export const maxAlertTextChars = 4096;
/** Alerts handed to an output in one send. */
export const defaultDeliveryBatchSize = 100;
/** Emitted alerts held in memory while the outbox cannot be written; beyond it the oldest are dropped and counted. */
export const maxUncommittedAlerts = 10_000;
/** Backoff of an output whose send failed, between batches (the webhook also retries within a batch). */
export const defaultOutputRetry: BackoffPolicy = { baseMs: 1000, maxMs: 60_000 };
/** How long close() waits for outputs that are up to take what is left; the rest is replayed on the next start. */
export const defaultCloseTimeoutMs = 5000;

export interface DispatcherClock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export interface AlertDispatcherOptions {
  /** Outbox directory, normally `$NOMINE_HOME/outbox`. */
  outboxDir: string;
  /** Outputs by name; the name keys the output's cursor in the outbox, so keep it stable across restarts. */
  outputs: Record<string, AlertOutput>;
  clock?: DispatcherClock;
  windowMs?: number;
  maxOpenAggregates?: number;
  rates?: { workload?: TokenBucketRate; global?: TokenBucketRate };
  maxRateLimitedWorkloads?: number;
  maxRateLimitSummaries?: number;
  outbox?: { maxBytes?: number; segmentBytes?: number };
  /** How often due updates, held alerts and summaries are looked at (a quarter window, at most a second, by default). */
  tickMs?: number;
  batchSize?: number;
  retry?: BackoffPolicy;
  closeTimeoutMs?: number;
  newId?: () => string;
  /** Told about trouble no output's stats carry (the outbox cannot be written); a logger's warn. */
  onProblem?: (message: string) => void;
}

export type DropReason = 'closed' | 'outbox-full' | 'outbox-unwritable';

export interface OutputStats {
  /** Alerts the output accepted. */
  delivered: number;
  /** Alerts the receiver refused for good (not retried). */
  rejected: number;
  /** Failed tries (each retried). */
  failedAttempts: number;
  /** Alerts in the outbox the output has not had yet. */
  pending: number;
  /** True while the output's last try failed and it waits to retry. */
  isFailing: boolean;
  lastError?: string;
  lastRejection?: string;
}

export interface AlertDispatcherStats {
  /** Drafts submitted. */
  submitted: number;
  /** Distinct alerts opened. */
  opened: number;
  /** Drafts counted into an alert that was already open. */
  aggregated: number;
  /** Alert snapshots (new alerts, updates, summaries) written to the outbox. */
  written: number;
  rateLimited: {
    /** Times an alert was held back for want of a token (it went out later, with its count). */
    held: number;
    /** Occurrences folded into summary alerts. */
    folded: number;
    /** Summary alerts opened. */
    summaries: number;
  };
  /** Alerts lost, by reason: submitted after close; dropped by a full outbox (over its life); not writable to it. */
  dropped: Record<DropReason, number>;
  outbox: OutboxStats;
  outputs: Record<string, OutputStats>;
}

export interface AlertDispatcher {
  /** Counts a deviation; returns the alert it was counted in, as it stands now (undefined once closed). */
  submit(draft: AlertDraft): Alert | undefined;
  /**
   * Emits what is due, writes everything emitted to the outbox, and waits until every output has it or is failing
   * (a down output does not hold it up; it retries in the background).
   */
  flush(): Promise<void>;
  /** Emits every pending update, gives outputs that are up a last chance to catch up, and stops. */
  close(): Promise<void>;
  stats(): AlertDispatcherStats;
}

interface OutputState {
  name: string;
  output: AlertOutput;
  cursor: number;
  delivered: number;
  rejected: number;
  failedAttempts: number;
  /** Failed sends in a row (backoff), and over the dispatcher's life (flush waits for one more). */
  failuresInRow: number;
  failures: number;
  isFailing: boolean;
  lastError?: string;
  lastRejection?: string;
  wake?: () => void;
}

function bounded(text: string): string {
  return text.length > maxAlertTextChars ? `${text.slice(0, maxAlertTextChars - 1)}…` : text;
}

function boundDraft(draft: AlertDraft): AlertDraft {
  const long = (s: string | undefined) => s !== undefined && s.length > maxAlertTextChars;
  if (![draft.dedupeKey, draft.message, draft.seen, draft.allowed, draft.action.reason, draft.entity.name, draft.workload, draft.image].some(long)) return draft;
  return {
    ...draft,
    dedupeKey: bounded(draft.dedupeKey),
    message: bounded(draft.message),
    seen: bounded(draft.seen),
    allowed: bounded(draft.allowed),
    workload: bounded(draft.workload),
    entity: { ...draft.entity, name: bounded(draft.entity.name) },
    action: { ...draft.action, reason: bounded(draft.action.reason) },
    ...(draft.image === undefined ? {} : { image: bounded(draft.image) }),
  };
}

export async function createAlertDispatcher(options: AlertDispatcherOptions): Promise<AlertDispatcher> {
  const clock = options.clock ?? { now: () => Date.now() };
  const windowMs = options.windowMs ?? defaultAggregationWindowMs;
  const tickMs = options.tickMs ?? Math.max(10, Math.min(1000, Math.floor(windowMs / 4)));
  const batchSize = Math.max(1, options.batchSize ?? defaultDeliveryBatchSize);
  const retry = options.retry ?? defaultOutputRetry;
  const closeTimeoutMs = options.closeTimeoutMs ?? defaultCloseTimeoutMs;
  const newId = options.newId ?? randomUUID;
  const problem = options.onProblem ?? (() => undefined);

  const outbox = await openOutbox(options.outboxDir, { outputs: Object.keys(options.outputs), ...options.outbox });
  const limiter = createAlertRateLimiter({
    ...options.rates,
    ...(options.maxRateLimitedWorkloads === undefined ? {} : { maxWorkloads: options.maxRateLimitedWorkloads }),
    ...(options.maxRateLimitSummaries === undefined ? {} : { maxSummaries: options.maxRateLimitSummaries }),
    summaryWindowMs: windowMs,
    newId,
  });
  const aggregator = createAlertAggregator({ windowMs, maxOpen: options.maxOpenAggregates ?? maxOpenAlertAggregates, newId, gate: limiter });

  let submitted = 0;
  let written = 0;
  const dropped: Record<DropReason, number> = { closed: 0, 'outbox-full': 0, 'outbox-unwritable': 0 };
  let isClosed = false;
  let isStopping = false;
  const stop = new AbortController();

  // Progress listeners: flush and close wait on these conditions.
  const listeners = new Set<() => void>();
  const notify = () => {
    for (const listener of [...listeners]) listener();
  };
  function until(condition: () => boolean, timeoutMs?: number): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = timeoutMs === undefined ? undefined : setTimeout(done, timeoutMs);
      function done() {
        listeners.delete(check);
        if (timer) clearTimeout(timer);
        resolve();
      }
      function check() {
        if (condition()) done();
      }
      listeners.add(check);
    });
  }

  // --- group commit to the outbox
  let uncommitted: Alert[] = [];
  let committing: Promise<void> | undefined;
  let commitFailures = 0;

  function enqueue(alerts: Alert[]): void {
    if (alerts.length === 0) return;
    for (const alert of alerts) uncommitted.push(alert);
    if (uncommitted.length > maxUncommittedAlerts) {
      const excess = uncommitted.length - maxUncommittedAlerts;
      uncommitted = uncommitted.slice(excess);
      dropped['outbox-unwritable'] += excess;
    }
    committing ??= commit().finally(() => {
      committing = undefined;
      notify();
    });
  }

  async function commit(): Promise<void> {
    // Let the rest of this turn's emissions join the batch.
    await new Promise((resolve) => setImmediate(resolve));
    let failuresInRow = 0;
    while (uncommitted.length > 0) {
      const batch = uncommitted;
      uncommitted = [];
      try {
        await outbox.append(batch);
        written += batch.length;
        failuresInRow = 0;
        for (const state of states) state.wake?.();
      } catch (error) {
        uncommitted = batch.concat(uncommitted);
        commitFailures += 1;
        failuresInRow += 1;
        problem(`alerts could not be written to the outbox (${uncommitted.length} waiting): ${error instanceof Error ? error.message : String(error)}`);
        notify();
        if (isStopping) {
          dropped['outbox-unwritable'] += uncommitted.length;
          uncommitted = [];
          return;
        }
        try {
          await sleep(backoffDelayMs(failuresInRow, retry), undefined, { signal: stop.signal });
        } catch {
          // Stopping: one last try above, then give up.
        }
      }
    }
  }

  // --- one delivery loop per output
  const states: OutputState[] = Object.entries(options.outputs).map(([name, output]) => ({
    name,
    output,
    cursor: outbox.cursor(name),
    delivered: 0,
    rejected: 0,
    failedAttempts: 0,
    failuresInRow: 0,
    failures: 0,
    isFailing: false,
  }));

  async function pause(ms: number): Promise<void> {
    try {
      await sleep(ms, undefined, { signal: stop.signal });
    } catch {
      // Stopping.
    }
  }

  async function acknowledge(state: OutputState, seq: number): Promise<void> {
    state.cursor = seq;
    try {
      await outbox.acknowledge(state.name, seq);
    } catch (error) {
      // The output has them; a cursor not saved only means a replay of this batch after a restart.
      problem(`the cursor of output ${state.name} could not be saved: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  async function deliver(state: OutputState): Promise<void> {
    while (!isStopping) {
      if (state.cursor >= outbox.lastSeq) {
        await new Promise<void>((resolve) => {
          state.wake = resolve;
        });
        state.wake = undefined;
        continue;
      }
      let records;
      try {
        records = await outbox.read(state.name, state.cursor, batchSize);
      } catch (error) {
        state.isFailing = true;
        state.failures += 1;
        state.lastError = `reading the outbox: ${error instanceof Error ? error.message : String(error)}`;
        notify();
        await pause(backoffDelayMs(++state.failuresInRow, retry));
        continue;
      }
      if (records.length === 0) {
        // Nothing readable up to the end: those alerts were dropped (outbox full) or corrupt, and are counted there.
        await acknowledge(state, outbox.lastSeq);
        notify();
        continue;
      }
      let result: DeliveryResult;
      try {
        result = await state.output.send(
          records.map((r) => r.alert),
          stop.signal,
        );
      } catch (error) {
        result = { handled: 0, rejected: 0, failedAttempts: 1, failure: { message: error instanceof Error ? error.message : String(error) } };
      }
      const handled = Math.max(0, Math.min(records.length, Math.floor(result.handled)));
      const rejected = Math.max(0, Math.min(handled, result.rejected));
      state.delivered += handled - rejected;
      state.rejected += rejected;
      state.failedAttempts += result.failedAttempts;
      if (result.rejection) state.lastRejection = result.rejection;
      state.isFailing = result.failure !== undefined;
      if (result.failure) {
        state.failures += 1;
        state.failuresInRow += 1;
        state.lastError = result.failure.message;
      } else {
        state.failuresInRow = 0;
      }
      if (handled > 0) await acknowledge(state, records[handled - 1]!.seq);
      notify();
      if (result.failure) await pause(result.failure.retryAfterMs ?? backoffDelayMs(state.failuresInRow, retry));
    }
  }

  const loops = states.map((state) =>
    deliver(state).catch((error: unknown) => {
      problem(`the delivery loop of output ${state.name} stopped: ${error instanceof Error ? error.message : String(error)}`);
    }),
  );

  function tick(): void {
    const now = clock.now();
    enqueue(aggregator.flushDue(now));
    enqueue(limiter.summaries(now));
  }
  const ticker = setInterval(tick, tickMs);
  ticker.unref();
  // Alerts left in the outbox by the last run go out now.
  for (const state of states) state.wake?.();

  /** Waits until everything emitted is in the outbox, or a write failed meanwhile. */
  function committed(timeoutMs?: number): Promise<void> {
    const failuresBefore = commitFailures;
    return until(() => (uncommitted.length === 0 && committing === undefined) || commitFailures > failuresBefore, timeoutMs);
  }

  /** Waits until every output has the outbox up to now, or is failing (a down output is not waited for). */
  function delivered(timeoutMs?: number): Promise<void> {
    const target = outbox.lastSeq;
    const failuresBefore = new Map(states.map((s) => [s, s.failures]));
    return until(() => isStopping || states.every((s) => s.cursor >= target || s.isFailing || s.failures > failuresBefore.get(s)!), timeoutMs);
  }

  let closing: Promise<void> | undefined;

  return {
    submit(draft) {
      if (isClosed) {
        dropped.closed += 1;
        return undefined;
      }
      submitted += 1;
      const { alert, emitted } = aggregator.add(boundDraft(draft), clock.now());
      enqueue(emitted);
      return alert;
    },

    async flush() {
      if (isStopping) return;
      tick();
      await committed();
      await delivered();
    },

    close() {
      closing ??= (async () => {
        isClosed = true;
        clearInterval(ticker);
        const now = clock.now();
        enqueue(aggregator.drain(now));
        enqueue(limiter.drainSummaries(now));
        const deadline = Date.now() + closeTimeoutMs;
        await committed(closeTimeoutMs);
        await delivered(Math.max(0, deadline - Date.now()));
        isStopping = true;
        stop.abort();
        for (const state of states) state.wake?.();
        notify();
        await Promise.all(loops);
        await committing;
        for (const state of states) await state.output.close?.().catch(() => undefined);
        await outbox.close();
      })();
      return closing;
    },

    stats() {
      const aggregation = aggregator.stats();
      const limits = limiter.stats();
      const outboxStats = outbox.stats();
      return {
        submitted,
        opened: aggregation.opened,
        aggregated: aggregation.aggregated,
        written,
        rateLimited: { held: aggregation.held, folded: limits.folded, summaries: limits.summaries },
        dropped: { ...dropped, 'outbox-full': outboxStats.dropped },
        outbox: outboxStats,
        outputs: Object.fromEntries(
          states.map((s) => [
            s.name,
            {
              delivered: s.delivered,
              rejected: s.rejected,
              failedAttempts: s.failedAttempts,
              pending: Math.max(0, outbox.lastSeq - s.cursor),
              isFailing: s.isFailing,
              ...(s.lastError === undefined ? {} : { lastError: s.lastError }),
              ...(s.lastRejection === undefined ? {} : { lastRejection: s.lastRejection }),
            },
          ]),
        ),
      };
    },
  };
}
