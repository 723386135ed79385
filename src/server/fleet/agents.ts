/**
 * Enrolled agents: enrolment with a join token (which issues the agent's own credential, shown once, stored as a
 * digest), the list admins see, and revocation (its credential is refused from then on). Enrolment and revocation
 * are written to the audit log in the same transaction.
 */
import { randomUUID } from 'node:crypto';
import { NomineError } from '../../core/errors.ts';
import type { ServerAgentsTable } from '../../store/migrations-server.ts';
import { agentCredentialPrefix, digestSecret, newSecret } from '../auth/secret-token.ts';
import { isoOf, isoOrNull } from '../console/instant.ts';
import type { ServerStore } from '../server-store.ts';
import { recordAudit } from './audit-log.ts';
import { claimJoinToken } from './join-tokens.ts';

export interface AgentView {
  id: string;
  nodeName: string;
  version: string;
  joinTokenId: string;
  enrolledAt: string;
  lastSeenAt: string;
  revokedAt: string | null;
}

export interface EnrolRequest {
  joinToken: string;
  nodeName: string;
  version: string;
  /** The client's address, for the audit log. */
  ip: string;
}

function toView(row: Pick<ServerAgentsTable, 'id' | 'node_name' | 'version' | 'join_token_id' | 'enrolled_at' | 'last_seen_at' | 'revoked_at'>): AgentView {
  return {
    id: row.id,
    nodeName: row.node_name,
    version: row.version,
    joinTokenId: row.join_token_id,
    enrolledAt: isoOf(row.enrolled_at),
    lastSeenAt: isoOf(row.last_seen_at),
    revokedAt: isoOrNull(row.revoked_at),
  };
}

export async function enrolAgent(db: ServerStore, request: EnrolRequest, now: number): Promise<{ agentId: string; credential: string }> {
  const credential = newSecret(agentCredentialPrefix);
  return db.transaction().execute(async (trx) => {
    const token = await claimJoinToken(trx, request.joinToken, now);
    const agentId = randomUUID();
    await trx
      .insertInto('server_agents')
      .values({
        id: agentId,
        node_name: request.nodeName,
        version: request.version,
        token_hash: digestSecret(credential),
        join_token_id: token.id,
        enrolled_at: now,
        last_seen_at: now,
        revoked_at: null,
        status: null,
      })
      .execute();
    await recordAudit(
      trx,
      { actor: `agent:${agentId}`, action: 'agent.enrol', target: `agent:${agentId}`, detail: { nodeName: request.nodeName, version: request.version, joinTokenId: token.id, joinTokenName: token.name, ip: request.ip } },
      now,
    );
    return { agentId, credential };
  });
}

const viewColumns = ['id', 'node_name', 'version', 'join_token_id', 'enrolled_at', 'last_seen_at', 'revoked_at'] as const;

export async function listAgents(db: ServerStore): Promise<AgentView[]> {
  return (await db.selectFrom('server_agents').select(viewColumns).orderBy('node_name').orderBy('enrolled_at').execute()).map(toView);
}

export async function revokeAgent(db: ServerStore, id: string, actor: string, now: number): Promise<AgentView> {
  return db.transaction().execute(async (trx) => {
    const row = await trx.selectFrom('server_agents').select(viewColumns).where('id', '=', id).executeTakeFirst();
    if (!row) throw new NomineError('not-found', 'no agent has this id', `agent ${id}`);
    if (row.revoked_at !== null) return toView(row);
    await trx.updateTable('server_agents').set({ revoked_at: now }).where('id', '=', id).execute();
    await recordAudit(trx, { actor, action: 'agent.revoke', target: `agent:${id}`, detail: { nodeName: row.node_name } }, now);
    return toView({ ...row, revoked_at: now });
  });
}
