/**
 * API tokens for programs (scrapers, `nomine scan --server`, agents later): `nmn_` + 256 random bits, shown once,
 * stored as a SHA-256 digest, optionally expiring, revocable. A refused token says why.
 */
import { randomUUID } from 'node:crypto';
import { NomineError } from '../../core/errors.ts';
import type { ServerStore } from '../server-store.ts';
import type { Principal, TokenRole } from './principal.ts';
import { apiTokenPrefix, digestSecret, newSecret } from './secret-token.ts';

export interface ApiTokenView {
  id: string;
  name: string;
  role: TokenRole;
  createdAt: string;
  createdBy: string;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

export interface NewApiToken {
  name: string;
  role: TokenRole;
  expiresAt?: number;
  createdBy: string;
}

export async function createApiToken(db: ServerStore, request: NewApiToken, now: number): Promise<{ token: string; view: ApiTokenView }> {
  const token = newSecret(apiTokenPrefix);
  const row = {
    id: randomUUID(),
    name: request.name,
    token_hash: digestSecret(token),
    role: request.role,
    created_by: request.createdBy,
    created_at: now,
    expires_at: request.expiresAt ?? null,
    revoked_at: null,
    last_used_at: null,
  };
  await db.insertInto('server_api_tokens').values(row).execute();
  return { token, view: toTokenView(row) };
}

export async function authenticateApiToken(db: ServerStore, token: string, now: number): Promise<Principal & { kind: 'token' }> {
  if (!token.startsWith(apiTokenPrefix)) throw new NomineError('unauthorized', `not a nomine API token (they start with ${apiTokenPrefix})`, 'authorization');
  const row = await db.selectFrom('server_api_tokens').selectAll().where('token_hash', '=', digestSecret(token)).executeTakeFirst();
  if (!row) throw new NomineError('unauthorized', 'the API token is unknown', 'authorization');
  if (row.revoked_at !== null) throw new NomineError('unauthorized', `the API token "${row.name}" was revoked`, 'authorization');
  if (row.expires_at !== null && Number(row.expires_at) <= now) throw new NomineError('unauthorized', `the API token "${row.name}" expired at ${iso(row.expires_at)}`, 'authorization');
  // Written at most every 15 s per token: a scraper's every request need not be a committed transaction.
  if (row.last_used_at === null || now - Number(row.last_used_at) >= 15_000) {
    await db.updateTable('server_api_tokens').set({ last_used_at: now }).where('id', '=', row.id).execute();
  }
  return { kind: 'token', tokenId: row.id, name: row.name, role: row.role as TokenRole };
}

export async function listApiTokens(db: ServerStore): Promise<ApiTokenView[]> {
  const rows = await db.selectFrom('server_api_tokens').selectAll().orderBy('created_at').execute();
  return rows.map(toTokenView);
}

export async function revokeApiToken(db: ServerStore, id: string, now: number): Promise<ApiTokenView> {
  const row = await db.selectFrom('server_api_tokens').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new NomineError('not-found', 'no API token has this id', `token ${id}`);
  const revokedAt = row.revoked_at ?? now;
  await db.updateTable('server_api_tokens').set({ revoked_at: revokedAt }).where('id', '=', id).execute();
  return toTokenView({ ...row, revoked_at: revokedAt });
}

function iso(ms: number): string {
  return new Date(Number(ms)).toISOString();
}

function toTokenView(row: { id: string; name: string; role: string; created_by: string; created_at: number; expires_at: number | null; revoked_at: number | null; last_used_at: number | null }): ApiTokenView {
  const optional = (ms: number | null) => (ms === null ? null : iso(ms));
  return {
    id: row.id,
    name: row.name,
    role: row.role as TokenRole,
    createdAt: iso(row.created_at),
    createdBy: row.created_by,
    expiresAt: optional(row.expires_at),
    revokedAt: optional(row.revoked_at),
    lastUsedAt: optional(row.last_used_at),
  };
}
