/**
 * Alert aggregation: identical deviations (same dedupeKey) become one alert whose count grows and whose lastAt
 * moves, so a miner restarted a thousand times is one alert, not a thousand. The first occurrence is emitted at
 * once (nobody should wait to learn a miner was killed); later occurrences update the aggregate and go out as an
 * update (same id, higher count) at most once per window. An aggregate closes after a window with nothing new, so
 * the next occurrence opens a fresh alert. Pure: time and ids are passed in; an `EmissionGate` (the rate limiter)
 * decides whether a snapshot may go out now, and takes the occurrences of an aggregate that must close before it
 * could, so no count is ever lost.
 */
import { severityRank } from '../core/severity.ts';
import type { Alert } from './alert.ts';

/** A deviation as a detector reports it: an alert before aggregation gave it an id, times and a count. */
export type AlertDraft = Omit<Alert, 'id' | 'firstAt' | 'lastAt' | 'count'> & {
  /** When the deviation was seen (event time, ms since the epoch); the aggregator's `now` when absent. */
  at?: number;
};

/** Identical drafts closer together than this aggregate into one alert; updates go out at most once per window. */
export const defaultAggregationWindowMs = 60_000;
/**
 * Open aggregates held at most. Beyond it the least recently seen one is flushed (its pending update emitted, or
 * folded into the rate limiter's summary) and closed: memory stays bounded under a storm of distinct deviations.
 */
export const maxOpenAlertAggregates = 10_000;

/** Decides whether a snapshot may go out now; the rate limiter implements it. */
export interface EmissionGate {
  /** True when `alert` may be emitted now (and the gate counted it); false to hold it back for a later try. */
  admit(alert: Readonly<Alert>, now: number): boolean;
  /**
   * `alert` closes with `occurrences` that no emitted snapshot carried and the gate would not admit: count them
   * elsewhere. The aggregate is gone, so the gate owns `alert` from here on.
   */
  fold(alert: Alert, occurrences: number, now: number): void;
}

/** A gate that admits everything (no rate limit). */
export const openGate: EmissionGate = {
  admit: () => true,
  fold: () => undefined,
};

export interface AlertAggregatorOptions {
  windowMs?: number;
  maxOpen?: number;
  /** Ids for new aggregates (uuid in production, counters in tests). */
  newId: () => string;
  gate?: EmissionGate;
}

export interface AddResult {
  /** The aggregate this draft was counted in, as it stands now. */
  alert: Alert;
  /** True when this draft opened a new aggregate. */
  isNew: boolean;
  /** Snapshots to emit now: this aggregate (first occurrence, or an update once its window passed) and any evicted one. */
  emitted: Alert[];
}

export interface AlertAggregatorStats {
  /** Aggregates opened (distinct alerts). */
  opened: number;
  /** Occurrences counted into an aggregate that was already open. */
  aggregated: number;
  /** Aggregates closed because the open limit was reached. */
  evicted: number;
  /** Times a snapshot the gate would not admit was held back for later (once per held stretch of an aggregate). */
  held: number;
  /** Occurrences handed to the gate's `fold` because their aggregate had to close before the gate admitted it. */
  folded: number;
}

export interface AlertAggregator {
  /** Counts `occurrences` (default 1) of `draft` at `now`. */
  add(draft: AlertDraft, now: number, occurrences?: number): AddResult;
  /** Emits updates whose window has passed (and held snapshots the gate now admits), and closes idle aggregates. */
  flushDue(now: number): Alert[];
  /** Emits (or folds) everything pending and closes every aggregate: shutdown. */
  drain(now: number): Alert[];
  has(dedupeKey: string): boolean;
  readonly size: number;
  stats(): AlertAggregatorStats;
}

interface OpenAggregate {
  alert: Alert;
  /** Count carried by the last emitted snapshot; 0 before the first. */
  emittedCount: number;
  emittedAt: number | undefined;
  /** `now` of the last occurrence: the aggregate closes a window after it. */
  touchedAt: number;
  /** The gate refused the pending snapshot and has not admitted it since. */
  isHeld: boolean;
}

/**
 * The alert's fields copied one by one: callers' extra properties stay out, and no object spread or rest (which,
 * on objects of many shapes, cost V8 microseconds each: a 100k-draft storm felt it).
 */
function describedAlert(draft: AlertDraft, id: string, severity: Alert['severity'], firstAt: number, lastAt: number, count: number): Alert {
  const alert: Alert = {
    id,
    dedupeKey: draft.dedupeKey,
    rule: draft.rule,
    severity,
    message: draft.message,
    entity: { id: draft.entity.id, name: draft.entity.name },
    workload: draft.workload,
    seen: draft.seen,
    allowed: draft.allowed,
    mode: draft.mode,
    phase: draft.phase,
    action: { taken: draft.action.taken, reason: draft.action.reason },
    firstAt,
    lastAt,
    count,
  };
  if (draft.profileId !== undefined) alert.profileId = draft.profileId;
  if (draft.image !== undefined) alert.image = draft.image;
  if (draft.imageDigest !== undefined) alert.imageDigest = draft.imageDigest;
  return alert;
}

export function snapshotAlert(alert: Alert): Alert {
  return describedAlert(alert, alert.id, alert.severity, alert.firstAt, alert.lastAt, alert.count);
}

export function createAlertAggregator(options: AlertAggregatorOptions): AlertAggregator {
  const windowMs = options.windowMs ?? defaultAggregationWindowMs;
  const maxOpen = Math.max(1, options.maxOpen ?? maxOpenAlertAggregates);
  const gate = options.gate ?? openGate;
  // Map order is least recently seen first: every occurrence re-inserts its aggregate at the end.
  const open = new Map<string, OpenAggregate>();
  const stats: AlertAggregatorStats = { opened: 0, aggregated: 0, evicted: 0, held: 0, folded: 0 };

  const isPending = (agg: OpenAggregate) => agg.alert.count > agg.emittedCount;

  function tryEmit(agg: OpenAggregate, now: number, out: Alert[]): boolean {
    if (!gate.admit(agg.alert, now)) {
      if (!agg.isHeld) stats.held += 1;
      agg.isHeld = true;
      return false;
    }
    agg.isHeld = false;
    agg.emittedCount = agg.alert.count;
    agg.emittedAt = now;
    out.push(snapshotAlert(agg.alert));
    return true;
  }

  /** Closes an aggregate for good: its pending occurrences go out, or to the gate's fold when it will not admit them. */
  function settle(agg: OpenAggregate, now: number, out: Alert[]): void {
    if (!isPending(agg) || tryEmit(agg, now, out)) return;
    const occurrences = agg.alert.count - agg.emittedCount;
    stats.folded += occurrences;
    gate.fold(agg.alert, occurrences, now);
  }

  function isDue(agg: OpenAggregate, now: number): boolean {
    return isPending(agg) && (agg.emittedAt === undefined || now - agg.emittedAt >= windowMs);
  }

  return {
    add(draft, now, occurrences = 1) {
      const emitted: Alert[] = [];
      const at = draft.at ?? now;
      const existing = open.get(draft.dedupeKey);
      if (existing) {
        const alert = existing.alert;
        const severity = severityRank(draft.severity) > severityRank(alert.severity) ? draft.severity : alert.severity;
        // The latest occurrence describes the alert best (its action, its replica); the severity only ever rises,
        // and an action once taken (a kill) is not hidden by a later occurrence that found nothing left to act on.
        const kept = draft.action.taken === 'none' && alert.action.taken !== 'none' ? { ...draft, action: alert.action } : draft;
        existing.alert = describedAlert(kept, alert.id, severity, Math.min(alert.firstAt, at), Math.max(alert.lastAt, at), alert.count + occurrences);
        existing.touchedAt = now;
        open.delete(draft.dedupeKey);
        open.set(draft.dedupeKey, existing);
        stats.aggregated += occurrences;
        if (isDue(existing, now)) tryEmit(existing, now, emitted);
        return { alert: snapshotAlert(existing.alert), isNew: false, emitted };
      }
      while (open.size >= maxOpen) {
        const [oldestKey, oldest] = open.entries().next().value as [string, OpenAggregate];
        open.delete(oldestKey);
        stats.evicted += 1;
        settle(oldest, now, emitted);
      }
      const agg: OpenAggregate = {
        alert: describedAlert(draft, options.newId(), draft.severity, at, at, occurrences),
        emittedCount: 0,
        emittedAt: undefined,
        touchedAt: now,
        isHeld: false,
      };
      open.set(draft.dedupeKey, agg);
      stats.opened += 1;
      tryEmit(agg, now, emitted);
      return { alert: snapshotAlert(agg.alert), isNew: true, emitted };
    },

    flushDue(now) {
      const emitted: Alert[] = [];
      const due: OpenAggregate[] = [];
      for (const [key, agg] of open) {
        if (isDue(agg, now)) due.push(agg);
        else if (!isPending(agg) && now - agg.touchedAt >= windowMs) open.delete(key);
      }
      // When the gate is short of room, the most severe snapshots go first (stable: least recently seen first among equals).
      due.sort((a, b) => severityRank(b.alert.severity) - severityRank(a.alert.severity));
      for (const agg of due) tryEmit(agg, now, emitted);
      return emitted;
    },

    drain(now) {
      const emitted: Alert[] = [];
      const all = [...open.values()].sort((a, b) => severityRank(b.alert.severity) - severityRank(a.alert.severity));
      open.clear();
      for (const agg of all) settle(agg, now, emitted);
      return emitted;
    },

    has: (dedupeKey) => open.has(dedupeKey),
    get size() {
      return open.size;
    },
    stats: () => ({ ...stats }),
  };
}
