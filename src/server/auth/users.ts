/** Console users: a unique username, an argon2id password hash, a role, and whether an admin disabled them. */
import { randomUUID } from 'node:crypto';
import { NomineError } from '../../core/errors.ts';
import { recordAudit } from '../fleet/audit-log.ts';
import type { ServerStore } from '../server-store.ts';
import { hashPassword, passwordProblem } from './password.ts';
import type { UserRole } from './principal.ts';

export interface UserView {
  id: string;
  username: string;
  role: UserRole;
  createdAt: string;
  /** When an admin disabled the user; null while they may log in. */
  disabledAt: string | null;
}

export interface NewUser {
  username: string;
  password: string;
  role: UserRole;
}

export async function hasUsers(db: ServerStore): Promise<boolean> {
  return (await db.selectFrom('server_users').select('id').limit(1).executeTakeFirst()) !== undefined;
}

/**
 * Creates a user. With `actor`, the `user.create` audit row is written in the same transaction, so no user exists
 * that the audit trail does not show; the password is hashed before, so the transaction holds no lock meanwhile.
 */
export async function createUser(db: ServerStore, user: NewUser, now: number, actor?: string): Promise<UserView> {
  const problem = passwordProblem(user.password, user.username);
  if (problem) throw new NomineError('invalid-input', problem, 'body.password');
  const row = {
    id: randomUUID(),
    username: user.username,
    password_hash: await hashPassword(user.password),
    role: user.role,
    created_at: now,
    updated_at: now,
  };
  try {
    await db.transaction().execute(async (trx) => {
      await trx.insertInto('server_users').values(row).execute();
      if (actor !== undefined) {
        await recordAudit(trx, { actor, action: 'user.create', target: `user:${row.id}`, detail: { username: row.username, role: row.role } }, now);
      }
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw new NomineError('conflict', `the username ${user.username} is taken`, 'body.username');
    throw error;
  }
  return toUserView(row);
}

export async function listUsers(db: ServerStore): Promise<UserView[]> {
  const rows = await db.selectFrom('server_users').selectAll().orderBy('username').execute();
  return rows.map(toUserView);
}

export function toUserView(row: { id: string; username: string; role: string; created_at: number; disabled_at?: number | null }): UserView {
  const disabledAt = row.disabled_at === undefined || row.disabled_at === null ? null : new Date(Number(row.disabled_at)).toISOString();
  return { id: row.id, username: row.username, role: row.role as UserRole, createdAt: new Date(Number(row.created_at)).toISOString(), disabledAt };
}

export function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  // better-sqlite3 and pg spell it differently.
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '23505';
}
