/**
 * Changing users after they exist: an admin sets a role, resets a password, disables, enables or deletes a user;
 * anyone changes their own password with the current one. Two rules hold whatever the order of requests: there
 * is always at least one enabled admin (the check and the change run in one serializable transaction, so two
 * admins demoting each other at once cannot both succeed), and a user's sessions end when they are disabled,
 * deleted or their password changes. Every change is written to the audit trail in the same transaction.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { NomineError } from '../../core/errors.ts';
import { recordAudit } from '../fleet/audit-log.ts';
import type { ServerStore } from '../server-store.ts';
import { hashPassword, passwordProblem, verifyPassword } from './password.ts';
import type { UserRole } from './principal.ts';
import { toUserView, type UserView } from './users.ts';

type Transaction = Parameters<Parameters<ReturnType<ServerStore['transaction']>['execute']>[0]>[0];
type UserRow = { id: string; username: string; role: string; created_at: number; disabled_at: number | null };

/** Who asks for the change: `user:<id>` or `token:<id>`, as the audit trail names actors. */
export interface Change {
  actor: string;
  now: number;
}

/** Tries of a change PostgreSQL refused for a concurrent one (serialization failure) before answering 409. */
const serializationAttempts = 5;

async function inTransaction<T>(db: ServerStore, work: (trx: Transaction) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      // SQLite ignores the level: its single connection already runs one transaction at a time.
      return await db.transaction().setIsolationLevel('serializable').execute(work);
    } catch (error) {
      if ((error as { code?: string }).code !== '40001') throw error;
      if (attempt >= serializationAttempts) throw new NomineError('conflict', 'another change to users happened at the same time: try again', 'users', { cause: error });
      // A few random milliseconds, so the transactions that collided do not collide again in step.
      await sleep(Math.floor(Math.random() * 10 * attempt));
    }
  }
}

async function userRow(trx: Transaction, id: string): Promise<UserRow> {
  const row = await trx.selectFrom('server_users').select(['id', 'username', 'role', 'created_at', 'disabled_at']).where('id', '=', id).executeTakeFirst();
  if (!row) throw new NomineError('not-found', 'no user has this id', `user ${id}`);
  return row;
}

function isActiveAdmin(row: { role: string; disabled_at: number | null }): boolean {
  return row.role === 'admin' && row.disabled_at === null;
}

/** Refuses a change that would leave no enabled admin: nobody could manage users or tokens any more. */
async function keepAnAdmin(trx: Transaction, row: UserRow, change: string): Promise<void> {
  if (!isActiveAdmin(row)) return;
  const others = await trx
    .selectFrom('server_users')
    .select((eb) => eb.fn.countAll<number | string>().as('count'))
    .where('role', '=', 'admin')
    .where('disabled_at', 'is', null)
    .where('id', '!=', row.id)
    .executeTakeFirstOrThrow();
  if (Number(others.count) === 0) throw new NomineError('conflict', `${row.username} is the last enabled admin and cannot be ${change}: make another user admin first`, `user ${row.username}`);
}

async function endSessions(trx: Transaction, userId: string, keepSessionHash?: string): Promise<number> {
  let query = trx.deleteFrom('server_sessions').where('user_id', '=', userId);
  if (keepSessionHash !== undefined) query = query.where('token_hash', '!=', keepSessionHash);
  const result = await query.executeTakeFirst();
  return Number(result.numDeletedRows);
}

export async function setUserRole(db: ServerStore, id: string, role: UserRole, change: Change): Promise<UserView> {
  return inTransaction(db, async (trx) => {
    const row = await userRow(trx, id);
    if (row.role === role) return toUserView(row);
    if (role !== 'admin') await keepAnAdmin(trx, row, `made ${role}`);
    await trx.updateTable('server_users').set({ role, updated_at: change.now }).where('id', '=', id).execute();
    await recordAudit(trx, { actor: change.actor, action: 'user.set-role', target: `user:${id}`, detail: { username: row.username, from: row.role, to: role } }, change.now);
    return toUserView({ ...row, role });
  });
}

export async function setUserDisabled(db: ServerStore, id: string, disabled: boolean, change: Change): Promise<UserView> {
  return inTransaction(db, async (trx) => {
    const row = await userRow(trx, id);
    if ((row.disabled_at !== null) === disabled) return toUserView(row);
    if (disabled) await keepAnAdmin(trx, row, 'disabled');
    const disabledAt = disabled ? change.now : null;
    await trx.updateTable('server_users').set({ disabled_at: disabledAt, updated_at: change.now }).where('id', '=', id).execute();
    const sessionsEnded = disabled ? await endSessions(trx, id) : 0;
    await recordAudit(trx, { actor: change.actor, action: disabled ? 'user.disable' : 'user.enable', target: `user:${id}`, detail: { username: row.username, ...(disabled ? { sessionsEnded } : {}) } }, change.now);
    return toUserView({ ...row, disabled_at: disabledAt });
  });
}

export async function deleteUser(db: ServerStore, id: string, change: Change): Promise<void> {
  await inTransaction(db, async (trx) => {
    const row = await userRow(trx, id);
    await keepAnAdmin(trx, row, 'deleted');
    const sessionsEnded = await endSessions(trx, id);
    await trx.deleteFrom('server_users').where('id', '=', id).execute();
    // The row is gone, so the trail keeps the name: the actor's name can no longer be looked up.
    await recordAudit(trx, { actor: change.actor, action: 'user.delete', target: `user:${id}`, detail: { username: row.username, role: row.role, sessionsEnded } }, change.now);
  });
}

/** An admin sets a new password for someone (who forgot theirs): every session of that user ends. */
export async function resetUserPassword(db: ServerStore, id: string, password: string, change: Change): Promise<void> {
  const username = (await db.selectFrom('server_users').select('username').where('id', '=', id).executeTakeFirst())?.username;
  if (username === undefined) throw new NomineError('not-found', 'no user has this id', `user ${id}`);
  const problem = passwordProblem(password, username);
  if (problem) throw new NomineError('invalid-input', problem, 'body.password');
  // Hashing takes tens of milliseconds: never inside the transaction, which on SQLite holds the one connection.
  const passwordHash = await hashPassword(password);
  await inTransaction(db, async (trx) => {
    const row = await userRow(trx, id);
    await trx.updateTable('server_users').set({ password_hash: passwordHash, updated_at: change.now }).where('id', '=', id).execute();
    const sessionsEnded = await endSessions(trx, id);
    await recordAudit(trx, { actor: change.actor, action: 'user.reset-password', target: `user:${id}`, detail: { username: row.username, sessionsEnded } }, change.now);
  });
}

export interface OwnPasswordChange {
  userId: string;
  currentPassword: string;
  newPassword: string;
  /** The session making the request stays; every other session of the user ends. */
  sessionHash: string;
  now: number;
}

/**
 * A user changes their own password; the current one is required, so a session left open on a shared machine
 * cannot lock its owner out. Returns false for a wrong current password (the caller counts it as a failed login).
 */
export async function changeOwnPassword(db: ServerStore, change: OwnPasswordChange): Promise<boolean> {
  const row = await db.selectFrom('server_users').select(['username', 'password_hash']).where('id', '=', change.userId).executeTakeFirst();
  if (!row) throw new NomineError('not-found', 'the user of this session no longer exists', 'session');
  if (!(await verifyPassword(row.password_hash, change.currentPassword))) return false;
  const problem = passwordProblem(change.newPassword, row.username);
  if (problem) throw new NomineError('invalid-input', problem, 'body.newPassword');
  if (change.newPassword === change.currentPassword) throw new NomineError('invalid-input', 'the new password must differ from the current one', 'body.newPassword');
  const passwordHash = await hashPassword(change.newPassword);
  await inTransaction(db, async (trx) => {
    // Compare-and-swap on the hash: of two changes racing with the same current password, one wins.
    const updated = await trx
      .updateTable('server_users')
      .set({ password_hash: passwordHash, updated_at: change.now })
      .where('id', '=', change.userId)
      .where('password_hash', '=', row.password_hash)
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) !== 1) throw new NomineError('conflict', 'the password was changed meanwhile: log in again', 'session');
    const sessionsEnded = await endSessions(trx, change.userId, change.sessionHash);
    await recordAudit(trx, { actor: `user:${change.userId}`, action: 'user.change-password', target: `user:${change.userId}`, detail: { username: row.username, sessionsEnded } }, change.now);
  });
  return true;
}
