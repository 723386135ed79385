/**
 * The profile sync: what changed since the revision an agent last applied — merged fleet profiles, modes people
 * set, approvals and relearn requests — oldest change first, a page at a time. With each profile goes the CPU
 * histogram of the other nodes, so the agent can keep its own samples apart. A `since` beyond the newest revision
 * means the console's store was replaced: the agent gets everything again.
 */
import { emptyAllowances, type CpuEnvelope, type Profile } from '../../profile/profile.ts';
import { subtractEnvelope } from '../../profile/cpu-envelope.ts';
import { maxSyncProfiles, type SyncResponse, type SyncedProfile } from '../schemas/agent-schemas.ts';
import type { ServerStore } from '../server-store.ts';
import { awaitingRelearn, decisionsOf, withConsoleDecisions } from './fleet-profile.ts';
import { latestProfileRevision } from './profile-revision.ts';

function cpuOf(envelope: CpuEnvelope): SyncedProfile['othersCpu'] {
  return { histogram: envelope.histogram, bucketCores: envelope.bucketCores, samples: envelope.samples };
}

export async function syncProfiles(db: ServerStore, agentId: string, since: number, limit = maxSyncProfiles): Promise<SyncResponse> {
  const latest = await latestProfileRevision(db);
  const from = since > latest ? 0 : since;
  const rows = await db.selectFrom('server_profiles').selectAll().where('revision', '>', from).orderBy('revision').limit(limit + 1).execute();
  const hasMore = rows.length > limit;
  const page = rows.slice(0, limit);
  if (page.length === 0) return { revision: Math.max(from, latest), profiles: [], hasMore: false };

  const ids = page.map((row) => row.id);
  const own = new Map(
    (await db.selectFrom('server_profile_contributions').select(['profile_id', 'received_at', 'document']).where('agent_id', '=', agentId).where('profile_id', 'in', ids).execute()).map((row) => [row.profile_id, row]),
  );
  const relearning = page.filter((row) => row.relearn_requested_at !== null).map((row) => row.id);
  const newestContribution = new Map<string, number>();
  if (relearning.length > 0) {
    const rows = await db
      .selectFrom('server_profile_contributions')
      .select((eb) => ['profile_id', eb.fn.max('received_at').as('received_at')])
      .where('profile_id', 'in', relearning)
      .groupBy('profile_id')
      .execute();
    for (const row of rows) newestContribution.set(row.profile_id, Number(row.received_at));
  }

  const profiles = page.flatMap((row): SyncedProfile[] => {
    const decisions = decisionsOf(row);
    let document: Profile;
    try {
      document = withConsoleDecisions(JSON.parse(row.document) as Profile, decisions);
    } catch {
      // A damaged row must not stop every agent's sync; the next merge rewrites it.
      return [];
    }
    let othersCpu = document.allow.cpu;
    const isAwaitingRelearn = decisions.relearnRequestedAt !== null && (newestContribution.get(row.id) ?? -1) < decisions.relearnRequestedAt;
    if (isAwaitingRelearn) {
      // Nothing was learned since the request: the stored merge is void.
      document = awaitingRelearn(document, decisions);
      othersCpu = emptyAllowances(document.allow.cpu.bucketCores).cpu;
    } else {
      const mine = own.get(row.id);
      // The merge holds this node's contribution when it was received after any relearn request: take it out.
      if (mine && (decisions.relearnRequestedAt === null || Number(mine.received_at) >= decisions.relearnRequestedAt)) {
        othersCpu = subtractEnvelope(document.allow.cpu, (JSON.parse(mine.document) as Profile).allow.cpu);
      }
    }
    return [{
      id: row.id,
      revision: Number(row.revision),
      mode: decisions.mode,
      modeSetBy: decisions.modeSetBy,
      approvedAt: decisions.approvedAt,
      relearnRequestedAt: decisions.relearnRequestedAt,
      document: document as unknown as Record<string, unknown>,
      othersCpu: cpuOf(othersCpu),
    }];
  });
  const last = Number(page.at(-1)!.revision);
  const revision = hasMore ? last : Math.max(latest, last);
  return { revision, profiles, hasMore };
}
