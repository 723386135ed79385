/**
 * The console's audit log, its one writer: who enrolled or revoked which agent, created or revoked a join token,
 * changed a profile or a user. One row per act, written in the same transaction as the act itself, so the log
 * never claims something that did not happen (console/audit-trail.ts reads it back).
 */
import { randomUUID } from 'node:crypto';
import type { ServerStore } from '../server-store.ts';

export interface AuditEntry {
  /** `user:<id>`, `token:<id>` or `agent:<id>`. */
  actor: string;
  /** `agent.enrol`, `agent.revoke`, `join-token.create`, `join-token.revoke`, `profile.approve`, `user.create`, … */
  action: string;
  /** What was acted on: `agent:<id>`, `join-token:<id>`, `profile:<id>`, `user:<id>`. */
  target: string;
  detail?: Record<string, unknown>;
}

export async function recordAudit(db: ServerStore, entry: AuditEntry, now: number): Promise<void> {
  await db
    .insertInto('server_audit_log')
    .values({ id: randomUUID(), at: now, actor: entry.actor, action: entry.action, target: entry.target, detail: entry.detail ? JSON.stringify(entry.detail) : null })
    .execute();
}
