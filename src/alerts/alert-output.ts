/**
 * Alert outputs: where alerts go (JSON lines on stdout or a file, a webhook, later the console). The dispatcher
 * hands each output the alerts from the outbox in order, from that output's own cursor; an output reports what it
 * handled as a value, never by throwing, so one that is down only delays itself. Each alert may arrive more than
 * once (an update carries the same id with a higher count; a crash replays the last batch): receivers keep the
 * highest count per id.
 */
import type { Alert } from './alert.ts';

export interface DeliveryResult {
  /** Leading alerts of the batch that are done with (delivered or rejected): the cursor moves past them. */
  handled: number;
  /** Of those, alerts the receiver refused for good (an HTTP 4xx other than 429); they are not retried. */
  rejected: number;
  /** Attempts that failed and were retried (or will be) during this call. */
  failedAttempts: number;
  /** Why the last rejected alert was refused (`HTTP 400: missing field`). */
  rejection?: string;
  /** Set when the output stopped before handling the whole batch: the rest is tried again later. */
  failure?: {
    message: string;
    /** The receiver asked to wait this long (Retry-After) before the next try. */
    retryAfterMs?: number;
  };
}

export interface AlertOutput {
  /** Delivers `alerts` in order; resolves with how far it got. Stops early (with a failure) when `signal` aborts. */
  send(alerts: readonly Alert[], signal: AbortSignal): Promise<DeliveryResult>;
  /** Releases files and connections. */
  close?(): Promise<void>;
}
