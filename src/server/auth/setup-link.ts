/**
 * First start without default credentials: either the admin secret comes from the environment, or a one-time
 * setup token (random, hashed at rest, expiring, single use) lets whoever holds the printed link create the first admin.
 */
import { NomineError } from '../../core/errors.ts';
import type { ServerStore } from '../server-store.ts';
import { digestSecret, newSecret } from './secret-token.ts';
import { createUser, hasUsers, type UserView } from './users.ts';

export type Bootstrap = { state: 'ready' } | { state: 'admin-from-environment'; username: string } | { state: 'setup-link'; token: string; expiresAt: number };

export const environmentAdminName = 'admin';

/** What the first start must do: nothing when users exist, else create the admin from `adminPassword` or issue a link. */
export async function bootstrap(db: ServerStore, options: { adminPassword?: string; now: number; setupLinkTtlMs: number }): Promise<Bootstrap> {
  if (await hasUsers(db)) return { state: 'ready' };
  if (options.adminPassword !== undefined && options.adminPassword !== '') {
    await createUser(db, { username: environmentAdminName, password: options.adminPassword, role: 'admin' }, options.now).catch((error: unknown) => {
      if (error instanceof NomineError && error.code === 'invalid-input') throw new NomineError('invalid-input', error.message, 'NOMINE_ADMIN_PASSWORD');
      throw error;
    });
    return { state: 'admin-from-environment', username: environmentAdminName };
  }
  const token = newSecret();
  const expiresAt = options.now + options.setupLinkTtlMs;
  // Only the newest link works: one printed on an earlier start is void.
  await db.deleteFrom('server_setup_tokens').execute();
  await db.insertInto('server_setup_tokens').values({ token_hash: digestSecret(token), created_at: options.now, expires_at: expiresAt, used_at: null }).execute();
  return { state: 'setup-link', token, expiresAt };
}

export async function completeSetup(db: ServerStore, request: { token: string; username: string; password: string }, now: number): Promise<UserView> {
  if (await hasUsers(db)) throw new NomineError('conflict', 'setup is already complete: log in instead', 'setup');
  const tokenHash = digestSecret(request.token);
  const row = await db.selectFrom('server_setup_tokens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
  if (!row) throw new NomineError('unauthorized', 'the setup token is unknown: use the link printed by the latest start of the server', 'body.token');
  if (row.used_at !== null) throw new NomineError('unauthorized', 'the setup token was already used', 'body.token');
  if (Number(row.expires_at) <= now) throw new NomineError('unauthorized', 'the setup token has expired: restart the server for a new link', 'body.token');
  // Claim the token first with a conditional update, so two racing requests cannot both create an admin.
  const claimed = await db.updateTable('server_setup_tokens').set({ used_at: now }).where('token_hash', '=', tokenHash).where('used_at', 'is', null).executeTakeFirst();
  if (Number(claimed.numUpdatedRows) !== 1) throw new NomineError('unauthorized', 'the setup token was already used', 'body.token');
  try {
    return await createUser(db, { username: request.username, password: request.password, role: 'admin' }, now);
  } catch (error) {
    // A refused password must not burn the link.
    await db.updateTable('server_setup_tokens').set({ used_at: null }).where('token_hash', '=', tokenHash).execute();
    throw error;
  }
}
