/**
 * A sensor: a source of raw events. `start` runs until the signal aborts, calling `sink` for every event without
 * ever waiting on it (the sink is a bounded queue that drops with a count when full). A sensor reports its own
 * trouble (a crash, a restart, lost events) through `onStatus` and keeps going where it can.
 */
import type { RawEvent, SensorName } from './event.ts';

export type SensorAvailability = { ok: true } | { ok: false; reason: string };

export interface SensorStatus {
  /** `started`, `restarted`, `lost-events`, `failed`, `stopped`. */
  kind: 'started' | 'restarted' | 'lost-events' | 'failed' | 'stopped' | 'warning';
  message: string;
  /** For lost-events: how many the kernel side reported lost. */
  count?: number;
}

export interface SensorContext {
  sink: (event: RawEvent) => void;
  onStatus: (status: SensorStatus) => void;
  signal: AbortSignal;
}

export interface Sensor {
  readonly name: SensorName;
  available(): Promise<SensorAvailability>;
  /** Resolves when the signal aborts (or the input ends, for file ingestion); rejects only when it cannot start at all. */
  start(context: SensorContext): Promise<void>;
}
