/**
 * Outbox records: one line of an outbox segment, `{"seq":N,"alert":{…}}`. The outbox reads these back from disk
 * after a crash, so a line is outside data: anything that is not a whole, well-formed record (a torn write, a
 * disk error, a hand edit) is rejected here and the outbox skips and counts it.
 */
import { z } from 'zod';
import { severities } from '../core/severity.ts';
import { enforcementModes } from '../profile/profile.ts';
import { alertRules, type ActionTaken, type Alert } from './alert.ts';

/** Bytes one outbox line may take; a longer line is corrupt (alert texts are bounded far below it on submit). */
export const maxOutboxLineBytes = 256 * 1024;

export interface OutboxRecord {
  /** Position in the outbox: increases by one per alert, across segments and restarts. */
  seq: number;
  alert: Alert;
}

// A record per member keeps this list in step with ActionTaken: a new action that is missing here fails to compile.
const actionsTaken = { none: true, killed: true, stopped: true, paused: true, failed: true } satisfies Record<ActionTaken, true>;

const text = z.string().max(maxOutboxLineBytes);
const time = z.number().finite();

const alertSchema = z.object({
  id: z.string().min(1).max(256),
  dedupeKey: text,
  rule: z.enum(alertRules),
  severity: z.enum(severities),
  message: text,
  entity: z.object({ id: text, name: text }),
  workload: text,
  profileId: text.optional(),
  image: text.optional(),
  imageDigest: text.optional(),
  seen: text,
  allowed: text,
  mode: z.enum(enforcementModes),
  phase: z.enum(['learning', 'enforcing']),
  action: z.object({ taken: z.enum(Object.keys(actionsTaken) as [ActionTaken, ...ActionTaken[]]), reason: text }),
  firstAt: time,
  lastAt: time,
  count: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
});

const recordSchema = z.object({
  seq: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  alert: alertSchema,
});

export function formatOutboxRecord(record: OutboxRecord): string {
  return `${JSON.stringify(record)}\n`;
}

/** The record on one line (without its newline), or undefined when the line is not a whole, valid record. */
export function parseOutboxRecord(line: string | Buffer): OutboxRecord | undefined {
  if (line.length > maxOutboxLineBytes) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(typeof line === 'string' ? line : line.toString('utf8'));
  } catch {
    return undefined;
  }
  const parsed = recordSchema.safeParse(value);
  return parsed.success ? (parsed.data as OutboxRecord) : undefined;
}
