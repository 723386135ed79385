/**
 * Event summaries: how many events of each type every entity had per window of time (a minute by default), for the
 * console's activity views. Counts are cumulative per window; `take` hands out the windows that changed since the
 * last take, and forgets windows that have ended once taken, so a later snapshot of a window always carries at
 * least what an earlier one did and the console keeps the latest. A window starts no earlier than `since` (when this
 * agent started): after a restart mid-window, the new process's counts go to a window of their own instead of
 * replacing what the console holds for the earlier part. Bounded: beyond `maxWindows` open windows the oldest is
 * dropped and counted. Pure: time comes in.
 */
export const defaultSummaryWindowMs = 60_000;
export const maxOpenSummaryWindows = 10_000;
/** Event types counted per window; the rest of a window's types are counted as `other`. */
export const maxTypesPerWindow = 32;

export interface EventSummary {
  entityId: string;
  windowStart: number;
  /** The last event counted so far (within the window). */
  windowEnd: number;
  counts: Record<string, number>;
}

export interface EventSummaries {
  count(entityId: string, type: string, at: number): void;
  /**
   * Up to `max` windows that changed since the last take, as they stand (the rest wait for the next take); ended
   * windows are forgotten once taken.
   */
  take(now: number, max?: number): EventSummary[];
  /** Windows dropped because `maxWindows` were open. */
  readonly dropped: number;
}

interface Window extends EventSummary {
  /** Where the window's period ends (exclusive), `windowStart` rounded down to the period plus the period. */
  periodEnd: number;
  isChanged: boolean;
}

export function createEventSummaries(options: { windowMs?: number; maxWindows?: number; since?: number } = {}): EventSummaries {
  const windowMs = options.windowMs ?? defaultSummaryWindowMs;
  const since = options.since ?? 0;
  const maxWindows = options.maxWindows ?? maxOpenSummaryWindows;
  const windows = new Map<string, Window>();
  let dropped = 0;
  return {
    count(entityId, type, at) {
      if (!Number.isFinite(at) || at < 0) return;
      const periodStart = Math.floor(at / windowMs) * windowMs;
      const windowStart = Math.max(periodStart, Math.min(since, periodStart + windowMs - 1));
      const key = `${entityId}\n${windowStart}`;
      let window = windows.get(key);
      if (!window) {
        if (windows.size >= maxWindows) {
          windows.delete(windows.keys().next().value!);
          dropped += 1;
        }
        window = { entityId, windowStart, windowEnd: windowStart, periodEnd: periodStart + windowMs, counts: {}, isChanged: true };
        windows.set(key, window);
      }
      const name = type in window.counts || Object.keys(window.counts).length < maxTypesPerWindow ? type : 'other';
      window.counts[name] = (window.counts[name] ?? 0) + 1;
      window.windowEnd = Math.max(window.windowEnd, Math.min(Math.floor(at), window.periodEnd - 1));
      window.isChanged = true;
    },
    take(now, max = Number.POSITIVE_INFINITY) {
      const taken: EventSummary[] = [];
      for (const [key, window] of windows) {
        if (window.isChanged) {
          if (taken.length >= max) continue;
          taken.push({ entityId: window.entityId, windowStart: window.windowStart, windowEnd: window.windowEnd, counts: { ...window.counts } });
          window.isChanged = false;
        }
        if (window.periodEnd <= now) windows.delete(key);
      }
      return taken;
    },
    get dropped() {
      return dropped;
    },
  };
}
