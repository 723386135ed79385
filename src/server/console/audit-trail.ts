/**
 * The audit trail read back: the actions on a target (rows of server_audit_log, which fleet/audit-log.ts writes in
 * the same transaction as each change), newest first, with actors (`user:<id>`, `token:<id>`, `agent:<id>`) shown
 * by name.
 */
import type { Kysely } from 'kysely';
import type { ServerDatabase } from '../../store/migrations-server.ts';
import type { AuditEntry } from '../schemas/console-schemas.ts';
import { isoOf } from './instant.ts';
import { parseJsonObject } from './json-object.ts';

type Db = Kysely<ServerDatabase>;

/** The newest actions on one target, with actor names resolved. */
export async function actionsOn(db: Db, target: string, limit: number): Promise<AuditEntry[]> {
  const rows = await db.selectFrom('server_audit_log').selectAll().where('target', '=', target).orderBy('at', 'desc').orderBy('id', 'desc').limit(limit).execute();
  const names = await actorNames(db, rows.map((row) => row.actor));
  return rows.map((row) => ({ at: isoOf(row.at), actor: row.actor, actorName: names.get(row.actor) ?? row.actor, action: row.action, detail: parseJsonObject(row.detail) ?? null }));
}

/** `user:<id>` → the username, `token:<id>` → `token <name>`, `agent:<id>` → `agent <node>`; unknown ids stay as they are. */
export async function actorNames(db: Db, actors: readonly string[]): Promise<Map<string, string>> {
  const ids = { user: new Set<string>(), token: new Set<string>(), agent: new Set<string>() };
  for (const actor of actors) {
    const [kind, id] = splitActor(actor);
    if (id && kind in ids) ids[kind as keyof typeof ids].add(id);
  }
  const names = new Map<string, string>();
  if (ids.user.size > 0) {
    for (const row of await db.selectFrom('server_users').select(['id', 'username']).where('id', 'in', [...ids.user]).execute()) names.set(`user:${row.id}`, row.username);
  }
  if (ids.token.size > 0) {
    for (const row of await db.selectFrom('server_api_tokens').select(['id', 'name']).where('id', 'in', [...ids.token]).execute()) names.set(`token:${row.id}`, `token ${row.name}`);
  }
  if (ids.agent.size > 0) {
    for (const row of await db.selectFrom('server_agents').select(['id', 'node_name']).where('id', 'in', [...ids.agent]).execute()) names.set(`agent:${row.id}`, `agent ${row.node_name}`);
  }
  return names;
}

function splitActor(actor: string): [string, string | undefined] {
  const colon = actor.indexOf(':');
  return colon < 0 ? [actor, undefined] : [actor.slice(0, colon), actor.slice(colon + 1)];
}
