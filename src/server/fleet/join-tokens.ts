/**
 * Join tokens: what an admin hands to nodes so their agents can enrol. `nmnj_` + 256 random bits, shown once and
 * stored as a SHA-256 digest; each expires, may be limited to a number of enrolments, and can be revoked. Agents
 * enrolled with a token keep their own credential when the token is revoked: revoking stops new enrolments only.
 */
import { randomUUID } from 'node:crypto';
import { NomineError } from '../../core/errors.ts';
import { digestSecret, isSameSecret, joinTokenPrefix, newSecret } from '../auth/secret-token.ts';
import type { ServerJoinTokensTable } from '../../store/migrations-server.ts';
import { isoOf, isoOrNull } from '../console/instant.ts';
import type { ServerStore } from '../server-store.ts';
import { recordAudit } from './audit-log.ts';

export interface JoinTokenView {
  id: string;
  name: string;
  createdBy: string;
  createdAt: string;
  expiresAt: string;
  maxUses: number | null;
  uses: number;
  revokedAt: string | null;
}

export interface NewJoinToken {
  name: string;
  ttlSeconds: number;
  maxUses?: number;
  /** `user:<id>` or `token:<id>`. */
  createdBy: string;
}

function toView(row: ServerJoinTokensTable): JoinTokenView {
  return {
    id: row.id,
    name: row.name,
    createdBy: row.created_by,
    createdAt: isoOf(row.created_at),
    expiresAt: isoOf(row.expires_at),
    maxUses: row.max_uses === null ? null : Number(row.max_uses),
    uses: Number(row.uses),
    revokedAt: isoOrNull(row.revoked_at),
  };
}

export async function createJoinToken(db: ServerStore, request: NewJoinToken, now: number): Promise<{ token: string; view: JoinTokenView }> {
  const token = newSecret(joinTokenPrefix);
  const row: ServerJoinTokensTable = {
    id: randomUUID(),
    name: request.name,
    token_hash: digestSecret(token),
    created_by: request.createdBy,
    created_at: now,
    expires_at: now + request.ttlSeconds * 1000,
    max_uses: request.maxUses ?? null,
    uses: 0,
    revoked_at: null,
  };
  await db.transaction().execute(async (trx) => {
    await trx.insertInto('server_join_tokens').values(row).execute();
    await recordAudit(trx, { actor: request.createdBy, action: 'join-token.create', target: `join-token:${row.id}`, detail: { name: row.name, expiresAt: row.expires_at, maxUses: row.max_uses } }, now);
  });
  return { token, view: toView(row) };
}

export async function listJoinTokens(db: ServerStore): Promise<JoinTokenView[]> {
  return (await db.selectFrom('server_join_tokens').selectAll().orderBy('created_at').orderBy('id').execute()).map(toView);
}

export async function revokeJoinToken(db: ServerStore, id: string, actor: string, now: number): Promise<JoinTokenView> {
  return db.transaction().execute(async (trx) => {
    const row = await trx.selectFrom('server_join_tokens').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw new NomineError('not-found', 'no join token has this id', `join token ${id}`);
    if (row.revoked_at !== null) return toView(row);
    await trx.updateTable('server_join_tokens').set({ revoked_at: now }).where('id', '=', id).execute();
    await recordAudit(trx, { actor, action: 'join-token.revoke', target: `join-token:${id}`, detail: { name: row.name } }, now);
    return toView({ ...row, revoked_at: now });
  });
}

/**
 * Takes one use of a join token, in the caller's transaction: the token's row, or a refusal that says why
 * (unknown or expired: 401; revoked or used up: 403). Two enrolments racing for the last use cannot both win: the
 * use is counted with a conditional update.
 */
export async function claimJoinToken(trx: ServerStore, token: string, now: number): Promise<ServerJoinTokensTable> {
  const part = 'body.joinToken';
  if (!token.startsWith(joinTokenPrefix)) throw new NomineError('unauthorized', `not a nomine join token (they start with ${joinTokenPrefix})`, part);
  const digest = digestSecret(token);
  const row = await trx.selectFrom('server_join_tokens').selectAll().where('token_hash', '=', digest).executeTakeFirst();
  // Looked up by digest, compared in constant time: neither the lookup nor the comparison tells how close a guess was.
  if (!row || !isSameSecret(row.token_hash, digest)) throw new NomineError('unauthorized', 'the join token is unknown: ask an admin for a new one', part);
  if (row.revoked_at !== null) throw new NomineError('forbidden', `the join token "${row.name}" was revoked at ${isoOf(row.revoked_at)}`, part);
  if (Number(row.expires_at) <= now) throw new NomineError('unauthorized', `the join token "${row.name}" expired at ${isoOf(row.expires_at)}`, part);
  const usedUp = () => new NomineError('forbidden', `the join token "${row.name}" has been used for all ${row.max_uses} enrolments it allows`, part);
  if (row.max_uses !== null && Number(row.uses) >= Number(row.max_uses)) throw usedUp();
  let claim = trx.updateTable('server_join_tokens').set((eb) => ({ uses: eb('uses', '+', 1) })).where('id', '=', row.id).where('revoked_at', 'is', null);
  if (row.max_uses !== null) claim = claim.where('uses', '<', Number(row.max_uses));
  const claimed = await claim.executeTakeFirst();
  if (Number(claimed.numUpdatedRows) !== 1) throw usedUp();
  return { ...row, uses: Number(row.uses) + 1 };
}
