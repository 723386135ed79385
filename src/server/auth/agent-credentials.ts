/**
 * Agent credentials: issued once at enrolment (`nmna_` + 256 random bits), stored only as a SHA-256 digest in
 * server_agents.token_hash, refused once the agent is revoked. A refused credential says why, so an operator
 * reading the agent's log knows whether to re-enrol.
 */
import { NomineError } from '../../core/errors.ts';
import type { ServerStore } from '../server-store.ts';
import type { Principal } from './principal.ts';
import { agentCredentialPrefix, digestSecret, isSameSecret } from './secret-token.ts';

/** last_seen_at is written at most this often per agent by requests that change nothing else (sync). */
const agentLastSeenResolutionMs = 15_000;

export async function authenticateAgent(db: ServerStore, credential: string, now: number): Promise<Principal & { kind: 'agent' }> {
  if (!credential.startsWith(agentCredentialPrefix)) throw new NomineError('unauthorized', `not a nomine agent credential (they start with ${agentCredentialPrefix})`, 'authorization');
  const digest = digestSecret(credential);
  const row = await db.selectFrom('server_agents').select(['id', 'node_name', 'token_hash', 'revoked_at', 'last_seen_at']).where('token_hash', '=', digest).executeTakeFirst();
  // The lookup is by digest (an attacker controls nothing of it); the comparison of the digests is constant-time anyway.
  if (!row || !isSameSecret(row.token_hash, digest)) throw new NomineError('unauthorized', 'the agent credential is unknown: enrol the agent again (`nomine agent enrol --force`)', 'authorization');
  if (row.revoked_at !== null) {
    throw new NomineError('unauthorized', `the agent ${row.node_name} (${row.id}) was revoked at ${new Date(Number(row.revoked_at)).toISOString()}: enrol it again with a new join token`, 'authorization');
  }
  if (now - Number(row.last_seen_at) >= agentLastSeenResolutionMs) {
    await db.updateTable('server_agents').set({ last_seen_at: now }).where('id', '=', row.id).execute();
  }
  return { kind: 'agent', agentId: row.id, nodeName: row.node_name };
}
