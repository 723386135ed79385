/**
 * Console output: delivers alerts to the nomine console as agent batches (POST /api/agents/batches), from the
 * outbox like every output, so alerts raised while the console is down wait on disk and go out when it is back.
 * A batch's id is a digest of the alerts it carries: the same outbox records always make the same batch, so a
 * batch resent after a crash (delivered, cursor not yet saved) is answered by the console as a replay, and a
 * snapshot delivered twice in different batches only upserts the same row (the console keeps the larger count).
 * A batch the console refuses for its content is split to single alerts, so one bad alert does not hold back the
 * rest; an alert refused on its own is rejected for good. Anything else (down, 5xx, 429, a revoked credential) is
 * a failure the dispatcher retries with backoff.
 */
import { createHash } from 'node:crypto';
import type { AgentBatch } from '../../server/schemas/agent-schemas.ts';
import type { Alert } from '../alert.ts';
import type { AlertOutput, DeliveryResult } from '../alert-output.ts';

/** What the output needs of the console client (src/agent/console/console-client.ts). */
export interface ConsoleBatchSender {
  postBatch(batch: AgentBatch): Promise<unknown>;
}

export interface ConsoleOutputOptions {
  client: ConsoleBatchSender;
  now?: () => number;
}

type BatchAlert = AgentBatch['alerts'][number];

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

const idPattern = /^[\x21-\x7e]{1,128}$/;

/** An alert within the bounds the console takes (the dispatcher allows longer free text than the wire does). */
export function toBatchAlert(alert: Alert): BatchAlert {
  return {
    id: alert.id,
    dedupeKey: clip(alert.dedupeKey, 1024),
    rule: alert.rule,
    severity: alert.severity,
    message: clip(alert.message, 4096),
    entity: { id: alert.entity.id, name: clip(alert.entity.name, 512) },
    workload: clip(alert.workload, 512),
    ...(alert.profileId !== undefined && idPattern.test(alert.profileId) ? { profileId: alert.profileId } : {}),
    ...(alert.image !== undefined ? { image: clip(alert.image, 512) } : {}),
    ...(alert.imageDigest !== undefined ? { imageDigest: clip(alert.imageDigest, 512) } : {}),
    seen: clip(alert.seen, 4096),
    allowed: clip(alert.allowed, 4096),
    mode: alert.mode,
    phase: alert.phase,
    action: { taken: alert.action.taken, reason: clip(alert.action.reason, 1024) },
    firstAt: Math.max(0, Math.floor(alert.firstAt)),
    lastAt: Math.max(0, Math.floor(alert.lastAt)),
    count: Math.max(1, Math.floor(alert.count)),
  };
}

/** The batch of these alerts; its id depends on their content only. */
export function alertBatchOf(alerts: readonly Alert[], sentAt: number): AgentBatch {
  const items = alerts.map(toBatchAlert);
  const digest = createHash('sha256').update(JSON.stringify(items)).digest('hex');
  return { batchId: `alerts-${digest.slice(0, 48)}`, sentAt, entities: [], eventSummaries: [], profiles: [], alerts: items };
}

interface Refusal {
  status?: number;
  isRefusal?: boolean;
  retryAfterMs?: number;
  message?: string;
}

export function createConsoleOutput(options: ConsoleOutputOptions): AlertOutput {
  const now = options.now ?? Date.now;

  async function post(alerts: readonly Alert[]): Promise<{ ok: true } | { ok: false; refused: boolean; message: string; retryAfterMs?: number }> {
    try {
      await options.client.postBatch(alertBatchOf(alerts, now()));
      return { ok: true };
    } catch (error) {
      const failure = error as Refusal;
      return { ok: false, refused: failure.isRefusal === true, message: failure.message ?? String(error), ...(failure.retryAfterMs !== undefined ? { retryAfterMs: failure.retryAfterMs } : {}) };
    }
  }

  return {
    async send(alerts, signal) {
      if (signal.aborted) return { handled: 0, rejected: 0, failedAttempts: 0, failure: { message: 'stopped before delivery' } };
      const whole = await post(alerts);
      if (whole.ok) return { handled: alerts.length, rejected: 0, failedAttempts: 0 };
      if (!whole.refused) return { handled: 0, rejected: 0, failedAttempts: 1, failure: { message: whole.message, ...(whole.retryAfterMs !== undefined ? { retryAfterMs: whole.retryAfterMs } : {}) } };
      // Refused for its content: find the alerts the console will not take, one by one.
      const result: DeliveryResult = { handled: 0, rejected: 0, failedAttempts: 0 };
      for (const alert of alerts) {
        if (signal.aborted) return { ...result, failure: { message: 'stopped while delivering alerts one by one' } };
        const single = await post([alert]);
        if (!single.ok && !single.refused) return { ...result, failedAttempts: 1, failure: { message: single.message, ...(single.retryAfterMs !== undefined ? { retryAfterMs: single.retryAfterMs } : {}) } };
        if (!single.ok) {
          result.rejected += 1;
          result.rejection = single.message;
        }
        result.handled += 1;
      }
      return result;
    },
  };
}
