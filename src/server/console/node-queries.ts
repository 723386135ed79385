/** Enrolled nodes (one agent each): when each was last heard from, whether it counts as online, what it runs. */
import { sql } from 'kysely';
import type { NodeView } from '../schemas/console-schemas.ts';
import type { ServerStore } from '../server-store.ts';
import { isoOf } from './instant.ts';
import { parseJsonObject } from './json-object.ts';

/**
 * A node is online when it delivered something within this window: several delivery intervals, so one slow or
 * retried delivery does not flip a node offline.
 */
export const nodeOnlineWindowMs = 120_000;

export async function listNodes(db: ServerStore, now: number, limit = 1_000): Promise<NodeView[]> {
  const rows = await db
    .selectFrom('server_agents as a')
    .selectAll('a')
    .select(sql<number>`(select count(*) from server_entities e where e.agent_id = a.id and e.gone_at is null)`.as('running'))
    .orderBy('a.last_seen_at', 'desc')
    .orderBy('a.id')
    .limit(limit)
    .execute();
  return rows.map((row) => ({
    id: row.id,
    name: row.node_name,
    version: row.version,
    enrolledAt: isoOf(row.enrolled_at),
    lastSeenAt: isoOf(row.last_seen_at),
    online: row.revoked_at === null && now - Number(row.last_seen_at) < nodeOnlineWindowMs,
    revoked: row.revoked_at !== null,
    entities: Number(row.running),
    status: parseJsonObject(row.status) ?? null,
  }));
}
