/**
 * Entities (containers and hosts) the nodes report, with their profile's mode: the filtered list, and one entity
 * with its profile, its alerts and its recent event counts.
 */
import { sql } from 'kysely';
import { NomineError } from '../../core/errors.ts';
import { isEnforcementMode } from '../../profile/lifecycle.ts';
import type { EntityQuery, EntityView, ProfileDetail, AlertView } from '../schemas/console-schemas.ts';
import type { ServerStore } from '../server-store.ts';
import { listAlerts } from './alert-query.ts';
import { isoOf, isoOrNull } from './instant.ts';
import { parseJsonObject } from './json-object.ts';
import { anyColumnContains } from './like-pattern.ts';
import { getProfileDetail } from './profile-queries.ts';

export const entityDetailAlerts = 50;
/** Event summary windows shown with one entity, newest first. */
export const entityEventWindows = 60;

function entityQueryBase(db: ServerStore) {
  return db
    .selectFrom('server_entities as e')
    .leftJoin('server_agents as a', 'a.id', 'e.agent_id')
    .leftJoin('server_profiles as p', 'p.id', 'e.profile_id')
    .selectAll('e')
    .select(['a.node_name', 'p.mode', 'p.phase'])
    .select(sql<number>`(select count(*) from server_alerts al where al.agent_id = e.agent_id and al.entity_id = e.entity_id)`.as('alerts'));
}

type EntityRow = Awaited<ReturnType<ReturnType<typeof entityQueryBase>['executeTakeFirstOrThrow']>>;

export async function listEntities(db: ServerStore, query: EntityQuery): Promise<{ entities: EntityView[]; truncated: boolean }> {
  let select = entityQueryBase(db);
  if (query.node) select = select.where('e.agent_id', '=', query.node);
  if (query.kind) select = select.where('e.kind', '=', query.kind);
  if (query.mode === 'none') select = select.where('p.id', 'is', null);
  else if (query.mode) select = select.where('p.mode', '=', query.mode);
  if (query.profile) select = select.where('e.profile_id', '=', query.profile);
  if (query.workload) select = select.where('e.workload', '=', query.workload);
  if (query.text) select = select.where(anyColumnContains(['e.name', 'e.image', 'e.workload', 'e.entity_id'], query.text));
  if (query.state === 'running') select = select.where('e.gone_at', 'is', null);
  if (query.state === 'gone') select = select.where('e.gone_at', 'is not', null);
  const rows = await select.orderBy('e.name').orderBy('a.node_name').orderBy('e.entity_id').limit(query.limit + 1).execute();
  return { entities: rows.slice(0, query.limit).map(toEntityView), truncated: rows.length > query.limit };
}

export interface EntityDetail {
  entity: EntityView;
  document: Record<string, unknown>;
  profile: ProfileDetail | null;
  alerts: AlertView[];
  eventSummaries: { windowStart: string; windowEnd: string; counts: Record<string, number> }[];
}

export async function getEntityDetail(db: ServerStore, agentId: string, entityId: string): Promise<EntityDetail> {
  const row = await entityQueryBase(db).where('e.agent_id', '=', agentId).where('e.entity_id', '=', entityId).executeTakeFirst();
  if (!row) throw new NomineError('not-found', 'no node reports an entity with this id', `entity ${agentId}/${entityId}`);
  const profile = row.profile_id && row.mode !== null ? await getProfileDetail(db, row.profile_id) : null;
  const { alerts } = await listAlerts(db, { node: agentId, entity: entityId, limit: entityDetailAlerts });
  const windows = await db
    .selectFrom('server_event_summaries')
    .selectAll()
    .where('agent_id', '=', agentId)
    .where('entity_id', '=', entityId)
    .orderBy('window_start', 'desc')
    .limit(entityEventWindows)
    .execute();
  return {
    entity: toEntityView(row),
    document: parseJsonObject(row.document) ?? {},
    profile,
    alerts,
    eventSummaries: windows.map((window) => ({ windowStart: isoOf(window.window_start), windowEnd: isoOf(window.window_end), counts: parseCounts(window.counts) })),
  };
}

function toEntityView(row: EntityRow): EntityView {
  return {
    agentId: row.agent_id,
    nodeName: row.node_name ?? row.agent_id,
    entityId: row.entity_id,
    kind: row.kind,
    name: row.name,
    image: row.image,
    imageDigest: row.image_digest,
    workload: row.workload,
    profileId: row.profile_id,
    mode: row.mode !== null && isEnforcementMode(row.mode) ? row.mode : null,
    phase: row.phase,
    firstSeenAt: isoOf(row.first_seen_at),
    lastSeenAt: isoOf(row.last_seen_at),
    goneAt: isoOrNull(row.gone_at),
    alerts: Number(row.alerts),
  };
}

function parseCounts(json: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const [type, count] of Object.entries(parseJsonObject(json) ?? {})) if (typeof count === 'number' && Number.isFinite(count)) counts[type] = count;
  return counts;
}
