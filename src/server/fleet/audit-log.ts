/**
 * The console's audit log: who enrolled or revoked which agent, who created or revoked a join token. One row per
 * act, written in the same transaction as the act itself, so the log never claims something that did not happen.
 */
import { randomUUID } from 'node:crypto';
import type { ServerStore } from '../server-store.ts';

export interface AuditEntry {
  /** `user:<id>`, `token:<id>` or `agent:<id>`. */
  actor: string;
  /** `agent.enrol`, `agent.revoke`, `join-token.create`, `join-token.revoke`. */
  action: string;
  /** What was acted on: `agent:<id>`, `join-token:<id>`. */
  target: string;
  detail?: Record<string, unknown>;
}

export async function recordAudit(db: ServerStore, entry: AuditEntry, now: number): Promise<void> {
  await db
    .insertInto('server_audit_log')
    .values({ id: randomUUID(), at: now, actor: entry.actor, action: entry.action, target: entry.target, detail: entry.detail ? JSON.stringify(entry.detail) : null })
    .execute();
}
