/**
 * Browser sessions: a random cookie value whose SHA-256 names the row, ending after an idle period or an absolute
 * lifetime, whichever comes first. Each session carries its CSRF synchroniser token.
 */
import { NomineError } from '../../core/errors.ts';
import type { ServerLimits } from '../server-limits.ts';
import type { ServerStore } from '../server-store.ts';
import type { Principal, UserRole } from './principal.ts';
import { digestSecret, newSecret } from './secret-token.ts';

export interface NewSession {
  token: string;
  csrfToken: string;
  expiresAt: number;
}

type SessionLimits = Pick<ServerLimits, 'sessionIdleMs' | 'sessionAbsoluteMs'>;

export async function createSession(db: ServerStore, userId: string, now: number, limits: SessionLimits): Promise<NewSession> {
  const token = newSecret();
  const csrfToken = newSecret();
  const expiresAt = now + limits.sessionAbsoluteMs;
  await db
    .insertInto('server_sessions')
    .values({ token_hash: digestSecret(token), user_id: userId, csrf_token: csrfToken, created_at: now, last_seen_at: now, expires_at: expiresAt })
    .execute();
  // Expired rows of anyone are cleared on each login, so the table stays the size of the active sessions.
  await db.deleteFrom('server_sessions').where((eb) => eb.or([eb('expires_at', '<=', now), eb('last_seen_at', '<=', now - limits.sessionIdleMs)])).execute();
  return { token, csrfToken, expiresAt };
}

/** The session's user, with its last use moved to now; `unauthorized` when unknown, idle too long or past its end. */
export async function resumeSession(db: ServerStore, token: string, now: number, limits: SessionLimits): Promise<Principal & { kind: 'user' }> {
  const tokenHash = digestSecret(token);
  const row = await db
    .selectFrom('server_sessions')
    .innerJoin('server_users', 'server_users.id', 'server_sessions.user_id')
    .select(['server_sessions.csrf_token', 'server_sessions.last_seen_at', 'server_sessions.expires_at', 'server_users.id', 'server_users.username', 'server_users.role', 'server_users.disabled_at'])
    .where('server_sessions.token_hash', '=', tokenHash)
    .executeTakeFirst();
  if (!row) throw new NomineError('unauthorized', 'the session is unknown or has ended: log in again', 'session');
  // Disabling ends the user's sessions; this holds even for a session created in the same instant.
  if (row.disabled_at !== null) {
    await db.deleteFrom('server_sessions').where('token_hash', '=', tokenHash).execute();
    throw new NomineError('unauthorized', 'this account is disabled: ask an admin to enable it', 'session');
  }
  if (Number(row.expires_at) <= now || Number(row.last_seen_at) + limits.sessionIdleMs <= now) {
    await db.deleteFrom('server_sessions').where('token_hash', '=', tokenHash).execute();
    throw new NomineError('unauthorized', 'the session has expired: log in again', 'session');
  }
  // A write per request would be a committed transaction (an fsync on SQLite) behind every page a person loads, so
  // the last use is moved only when it is older than a hundredth of the idle period (at most 15 s): the idle end
  // comes at most that much early.
  if (now - Number(row.last_seen_at) >= Math.min(15_000, limits.sessionIdleMs / 100)) {
    await db.updateTable('server_sessions').set({ last_seen_at: now }).where('token_hash', '=', tokenHash).execute();
  }
  return { kind: 'user', userId: row.id, username: row.username, role: row.role as UserRole, csrfToken: row.csrf_token, sessionHash: tokenHash };
}

export async function endSession(db: ServerStore, sessionHash: string): Promise<void> {
  await db.deleteFrom('server_sessions').where('token_hash', '=', sessionHash).execute();
}
