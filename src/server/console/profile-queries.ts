/**
 * Profiles as the console lists and shows them: the merged profile of each workload with its mode, phase and
 * revision, who chose the mode, how many nodes contributed; and one profile in full, each allowance with when
 * and where it was learned, each node's contribution, its recent alerts and what people did to it.
 */
import { sql } from 'kysely';
import { NomineError } from '../../core/errors.ts';
import { isEnforcementMode } from '../../profile/lifecycle.ts';
import type { ServerProfilesTable } from '../../store/migrations-server.ts';
import type { ProfileDetail, ProfileQuery, ProfileSummary } from '../schemas/console-schemas.ts';
import type { ServerStore } from '../server-store.ts';
import { listAlerts } from './alert-query.ts';
import { actionsOn, actorNames } from './audit-trail.ts';
import { isoOf, isoOrNull } from './instant.ts';
import { anyColumnContains } from './like-pattern.ts';
import { allowanceView, type NodeReading } from './profile-allowances.ts';
import { readProfileDocument } from './profile-document.ts';

/** Alerts and history entries shown with one profile. */
export const profileDetailAlerts = 50;
export const profileHistoryEntries = 50;

type SummaryRow = ServerProfilesTable & { nodes: number | string; entities: number | string };

function summaryQuery(db: ServerStore) {
  return db
    .selectFrom('server_profiles as p')
    .selectAll('p')
    .select(sql<number>`(select count(*) from server_profile_contributions c where c.profile_id = p.id)`.as('nodes'))
    .select(sql<number>`(select count(*) from server_entities e where e.profile_id = p.id and e.gone_at is null)`.as('entities'));
}

export async function listProfiles(db: ServerStore, query: ProfileQuery): Promise<{ profiles: ProfileSummary[]; truncated: boolean }> {
  let select = summaryQuery(db);
  if (query.mode) select = select.where('p.mode', '=', query.mode);
  if (query.phase) select = select.where('p.phase', '=', query.phase);
  if (query.text) select = select.where(anyColumnContains(['p.id', 'p.workload', 'p.image'], query.text));
  const rows = await select.orderBy('p.workload').orderBy('p.id').limit(query.limit + 1).execute();
  return { profiles: await toSummaries(db, rows.slice(0, query.limit)), truncated: rows.length > query.limit };
}

export async function getProfileDetail(db: ServerStore, id: string): Promise<ProfileDetail> {
  const row = await summaryQuery(db).where('p.id', '=', id).executeTakeFirst();
  if (!row) throw new NomineError('not-found', 'no profile has this id', `profile ${id}`);
  const [summary] = await toSummaries(db, [row]);
  const merged = readProfileDocument(row.document, `profile ${id}`);
  const contributions = await db
    .selectFrom('server_profile_contributions as c')
    .leftJoin('server_agents as a', 'a.id', 'c.agent_id')
    .select(['c.agent_id', 'c.revision', 'c.received_at', 'c.document', 'a.node_name'])
    .where('c.profile_id', '=', id)
    // What nodes learned before the latest relearn request no longer counts (src/server/fleet/fleet-profile.ts).
    .$if(row.relearn_requested_at !== null, (select) => select.where('c.received_at', '>=', Number(row.relearn_requested_at)))
    .orderBy('a.node_name')
    .orderBy('c.agent_id')
    .execute();
  const nodes: NodeReading[] = contributions.map((contribution) => {
    const nodeName = contribution.node_name ?? contribution.agent_id;
    return { agentId: contribution.agent_id, nodeName, reading: readProfileDocument(contribution.document, `node ${nodeName}`) };
  });
  const { alerts } = await listAlerts(db, { profile: id, limit: profileDetailAlerts });
  return {
    ...summary!,
    learningStartedAt: isoOrNull(merged.learningStartedAt),
    enforcingSince: isoOrNull(merged.enforcingSince),
    allow: allowanceView(merged, nodes),
    contributions: contributions.map((contribution, index) => {
      const reading = nodes[index]!.reading;
      return {
        agentId: contribution.agent_id,
        nodeName: nodes[index]!.nodeName,
        revision: Number(contribution.revision),
        receivedAt: isoOf(contribution.received_at),
        phase: reading.phase ?? null,
        counts: {
          processes: reading.processes.length,
          egress: reading.egress.length,
          listen: reading.listen.length,
          fileWrites: reading.fileWrites.length,
          syscalls: reading.syscalls?.length ?? 0,
        },
      };
    }),
    alerts,
    history: await actionsOn(db, `profile:${id}`, profileHistoryEntries),
    problems: [...merged.problems, ...nodes.flatMap((node) => node.reading.problems)],
  };
}

async function toSummaries(db: ServerStore, rows: SummaryRow[]): Promise<ProfileSummary[]> {
  const names = await actorNames(db, rows.flatMap((row) => [row.mode_set_by, row.approved_by].filter((actor): actor is string => actor !== null)));
  return rows.map((row) => ({
    id: row.id,
    workload: row.workload,
    imageDigest: row.image_digest,
    image: row.image,
    // Agents validate the mode they send; a stored value outside the set is shown as the safe default.
    mode: isEnforcementMode(row.mode) ? row.mode : 'alert',
    phase: row.phase,
    revision: Number(row.revision),
    modeSetBy: row.mode_set_by,
    modeSetByName: row.mode_set_by === null ? null : (names.get(row.mode_set_by) ?? row.mode_set_by),
    approvedAt: isoOrNull(row.approved_at),
    approvedBy: row.approved_by === null ? null : (names.get(row.approved_by) ?? row.approved_by),
    relearnRequestedAt: isoOrNull(row.relearn_requested_at),
    createdAt: isoOf(row.created_at),
    updatedAt: isoOf(row.updated_at),
    nodes: Number(row.nodes),
    entities: Number(row.entities),
  }));
}
