/**
 * Ingesting an agent's batch: in one transaction, idempotently. A batch is known by (agent, batchId); a replay gets
 * the answer first given and changes nothing, the same id with other content is a conflict. Every item is an
 * upsert that converges whatever the order or repetition of deliveries: entities take the latest report, event
 * summaries the latest snapshot of their window, alerts the snapshot with the larger count (an aggregate only
 * grows), profiles the node's newer revision only, after which the workload's fleet profile is merged again from
 * every node's contribution and its revision bumped when the merge changed. Rows are written in multi-row upserts.
 */
import { createHash } from 'node:crypto';
import { NomineError } from '../../core/errors.ts';
import type { Profile } from '../../profile/profile.ts';
import { isUniqueViolation } from '../auth/users.ts';
import type { AgentBatch } from '../schemas/agent-schemas.ts';
import { parseProfileDocument } from '../schemas/profile-document-schema.ts';
import type { ServerStore } from '../server-store.ts';
import { currentContributions, decisionsOf, fleetProfile, type Contribution } from './fleet-profile.ts';
import { nextProfileRevision } from './profile-revision.ts';

/** Bytes of one entity's document and of the status document, as JSON. */
export const maxEntityDocumentBytes = 64 * 1024;
export const maxStatusDocumentBytes = 64 * 1024;
/** Rows per multi-row statement: SQLite takes at most 32,766 parameters, PostgreSQL 65,535. */
const rowsPerStatement = 500;
/**
 * How long a batch's id and answer are kept: an agent retries a batch until it is answered, so a replay comes
 * within minutes or hours of the first delivery. Older rows are cleared, per agent, at most once an hour.
 */
export const batchRetentionMs = 7 * 86_400_000;
const pruneIntervalMs = 3_600_000;
const prunedAt = new Map<string, number>();

export interface BatchAnswer {
  batchId: string;
  replayed: boolean;
  accepted: { entities: number; eventSummaries: number; profiles: number; alerts: number };
}

type Entity = AgentBatch['entities'][number];
type Summary = AgentBatch['eventSummaries'][number];
type BatchAlert = AgentBatch['alerts'][number];

interface PreparedProfile {
  id: string;
  revision: number;
  relearnRequestedAt: number | undefined;
  profile: Profile;
}

export interface PreparedBatch {
  batchId: string;
  /**
   * Over the whole batch but `sentAt`: a retry sent later is still the same batch. Taken over the validated body,
   * whose objects come out of validation in the schema's key order (free-form documents keep the order sent, and a
   * retry sends the same bytes), so a client's key order does not matter where it could vary.
   */
  digest: string;
  entities: Entity[];
  summaries: Summary[];
  alerts: BatchAlert[];
  profiles: PreparedProfile[];
  status: string | undefined;
}

function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value), 'utf8');
}

function refuse(part: string, message: string): never {
  throw new NomineError('invalid-input', message, part);
}

/** Keeps one item per key: the one `prefer` picks over the other (later items win ties). */
function dedupe<T>(items: readonly T[], keyOf: (item: T) => string, prefer: (candidate: T, kept: T) => boolean): T[] {
  const byKey = new Map<string, T>();
  for (const item of items) {
    const key = keyOf(item);
    const kept = byKey.get(key);
    if (!kept || prefer(item, kept)) byKey.set(key, item);
  }
  return [...byKey.values()];
}

/**
 * The checks zod cannot express (sizes of nested documents, the profile documents themselves), and one item per
 * key. Throws `invalid-input` naming the item (`body.profiles.2.document.allow.egress.0.port: …`).
 */
export function prepareBatch(batch: AgentBatch): PreparedBatch {
  batch.entities.forEach((entity, index) => {
    if (jsonBytes(entity.document) > maxEntityDocumentBytes) refuse(`body.entities.${index}.document`, `larger than ${maxEntityDocumentBytes} bytes`);
  });
  let status: string | undefined;
  if (batch.status !== undefined) {
    status = JSON.stringify(batch.status);
    if (Buffer.byteLength(status, 'utf8') > maxStatusDocumentBytes) refuse('body.status', `larger than ${maxStatusDocumentBytes} bytes`);
  }
  const profiles = batch.profiles.map((item, index): PreparedProfile => {
    const parsed = parseProfileDocument(item.document);
    if (!parsed.ok) refuse(`body.profiles.${index}.document`, parsed.problem);
    if (parsed.profile.id !== item.id) refuse(`body.profiles.${index}.id`, `says ${item.id} but the document is profile ${parsed.profile.id}`);
    return { id: item.id, revision: item.revision, relearnRequestedAt: item.relearnRequestedAt, profile: parsed.profile };
  });
  const { sentAt: _sentAt, ...content } = batch;
  return {
    batchId: batch.batchId,
    digest: createHash('sha256').update(JSON.stringify(content)).digest('hex'),
    entities: dedupe(batch.entities, (entity) => entity.id, () => true),
    summaries: dedupe(batch.eventSummaries, (summary) => `${summary.entityId}\n${summary.windowStart}`, (candidate, kept) => candidate.windowEnd >= kept.windowEnd),
    alerts: dedupe(batch.alerts, (alert) => alert.id, (candidate, kept) => candidate.count > kept.count || (candidate.count === kept.count && candidate.lastAt >= kept.lastAt)),
    profiles: dedupe(profiles, (profile) => profile.id, (candidate, kept) => candidate.revision >= kept.revision),
    status,
  };
}

function chunks<T>(items: readonly T[], size = rowsPerStatement): T[][] {
  const result: T[][] = [];
  for (let start = 0; start < items.length; start += size) result.push(items.slice(start, start + size));
  return result;
}

function answerOf(text: string, replayed: boolean): BatchAnswer {
  return { ...(JSON.parse(text) as BatchAnswer), replayed };
}

async function replayOf(db: ServerStore, agentId: string, batch: PreparedBatch): Promise<BatchAnswer | undefined> {
  const previous = await db.selectFrom('server_agent_batches').select(['body_sha256', 'answer']).where('agent_id', '=', agentId).where('batch_id', '=', batch.batchId).executeTakeFirst();
  if (!previous) return undefined;
  if (previous.body_sha256 !== batch.digest) {
    throw new NomineError('conflict', 'this batchId was already used for a batch with other content: a new batch needs a new id', `batch ${batch.batchId}`);
  }
  return answerOf(previous.answer, true);
}

export async function ingestBatch(db: ServerStore, agentId: string, batch: PreparedBatch, now: number): Promise<BatchAnswer> {
  const earlier = await replayOf(db, agentId, batch);
  if (earlier) return earlier;
  await pruneBatches(db, agentId, now);
  try {
    return await db.transaction().execute(async (trx) => {
      // A write first, so the transaction holds SQLite's write lock before it reads (no upgrade from a read lock).
      await trx
        .updateTable('server_agents')
        .set({ last_seen_at: now, ...(batch.status !== undefined ? { status: batch.status } : {}) })
        .where('id', '=', agentId)
        .execute();
      // Checked again inside: this is the serialised view, so two deliveries cannot both apply.
      const replayed = await replayOf(trx, agentId, batch);
      if (replayed) return replayed;
      const profiles = await acceptedProfiles(trx, agentId, batch.profiles);
      const answer: BatchAnswer = {
        batchId: batch.batchId,
        replayed: false,
        accepted: { entities: batch.entities.length, eventSummaries: batch.summaries.length, profiles: profiles.length, alerts: batch.alerts.length },
      };
      // Claimed first: a concurrent delivery of the same batch (PostgreSQL) waits here and then fails as a duplicate.
      await trx.insertInto('server_agent_batches').values({ agent_id: agentId, batch_id: batch.batchId, body_sha256: batch.digest, received_at: now, answer: JSON.stringify(answer) }).execute();
      await upsertEntities(trx, agentId, batch.entities, now);
      await upsertSummaries(trx, agentId, batch.summaries);
      await upsertAlerts(trx, agentId, batch.alerts, now);
      await storeContributions(trx, agentId, profiles, now);
      return answer;
    });
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
    // The same batch was delivered twice at once and the other delivery won: answer as its replay.
    const winner = await replayOf(db, agentId, batch);
    if (!winner) throw error;
    return winner;
  }
}

async function pruneBatches(db: ServerStore, agentId: string, now: number): Promise<void> {
  const last = prunedAt.get(agentId);
  if (last !== undefined && now - last < pruneIntervalMs && now >= last) return;
  prunedAt.delete(agentId);
  prunedAt.set(agentId, now);
  // Bounded like every cache here: the oldest agents are forgotten first (they are pruned again on their next batch).
  if (prunedAt.size > 100_000) prunedAt.delete(prunedAt.keys().next().value!);
  await db.deleteFrom('server_agent_batches').where('agent_id', '=', agentId).where('received_at', '<', now - batchRetentionMs).execute();
}

/** Contributions newer than what this agent sent before, and not learned before the profile's latest relearn request. */
async function acceptedProfiles(trx: ServerStore, agentId: string, profiles: readonly PreparedProfile[]): Promise<PreparedProfile[]> {
  if (profiles.length === 0) return [];
  const accepted: PreparedProfile[] = [];
  for (const group of chunks(profiles)) {
    const ids = group.map((profile) => profile.id);
    const stored = new Map(
      (await trx.selectFrom('server_profile_contributions').select(['profile_id', 'revision']).where('agent_id', '=', agentId).where('profile_id', 'in', ids).execute()).map((row) => [row.profile_id, Number(row.revision)]),
    );
    const requests = new Map(
      (await trx.selectFrom('server_profiles').select(['id', 'relearn_requested_at']).where('id', 'in', ids).where('relearn_requested_at', 'is not', null).execute()).map((row) => [row.id, Number(row.relearn_requested_at)]),
    );
    for (const profile of group) {
      const previous = stored.get(profile.id);
      if (previous !== undefined && profile.revision <= previous) continue;
      const request = requests.get(profile.id);
      // Still learned before the request: the node relearns once it syncs, and its next contribution counts.
      if (request !== undefined && (profile.relearnRequestedAt ?? 0) < request) continue;
      accepted.push(profile);
    }
  }
  return accepted;
}

async function upsertEntities(trx: ServerStore, agentId: string, entities: readonly Entity[], now: number): Promise<void> {
  for (const group of chunks(entities)) {
    await trx
      .insertInto('server_entities')
      .values(
        group.map((entity) => ({
          agent_id: agentId,
          entity_id: entity.id,
          kind: entity.kind,
          name: entity.name,
          image: entity.image ?? null,
          image_digest: entity.imageDigest ?? null,
          workload: entity.workload ?? null,
          profile_id: entity.profileId ?? null,
          document: JSON.stringify(entity.document),
          first_seen_at: now,
          last_seen_at: now,
          gone_at: entity.goneAt ?? null,
        })),
      )
      .onConflict((conflict) =>
        conflict.columns(['agent_id', 'entity_id']).doUpdateSet((eb) => ({
          kind: eb.ref('excluded.kind'),
          name: eb.ref('excluded.name'),
          image: eb.ref('excluded.image'),
          image_digest: eb.ref('excluded.image_digest'),
          workload: eb.ref('excluded.workload'),
          profile_id: eb.ref('excluded.profile_id'),
          document: eb.ref('excluded.document'),
          last_seen_at: eb.ref('excluded.last_seen_at'),
          gone_at: eb.ref('excluded.gone_at'),
        })),
      )
      .execute();
  }
}

/** The row an event summary is stored as (exported for bench:server's raw-INSERT baseline: the same rows). */
export function summaryRow(agentId: string, summary: Summary) {
  return { agent_id: agentId, entity_id: summary.entityId, window_start: summary.windowStart, window_end: summary.windowEnd, counts: JSON.stringify(summary.counts) };
}

/** The row an alert aggregate is stored as (exported for bench:server's raw-INSERT baseline: the same rows). */
export function alertRow(agentId: string, alert: BatchAlert, now: number) {
  return {
    id: alert.id,
    agent_id: agentId,
    dedupe_key: alert.dedupeKey,
    rule: alert.rule,
    severity: alert.severity,
    message: alert.message,
    entity_id: alert.entity.id,
    entity_name: alert.entity.name,
    workload: alert.workload,
    profile_id: alert.profileId ?? null,
    image: alert.image ?? null,
    mode: alert.mode,
    action_taken: alert.action.taken,
    first_at: alert.firstAt,
    last_at: alert.lastAt,
    count: alert.count,
    received_at: now,
    document: JSON.stringify(alert),
  };
}

async function upsertSummaries(trx: ServerStore, agentId: string, summaries: readonly Summary[]): Promise<void> {
  for (const group of chunks(summaries)) {
    await trx
      .insertInto('server_event_summaries')
      .values(group.map((summary) => summaryRow(agentId, summary)))
      .onConflict((conflict) =>
        conflict
          .columns(['agent_id', 'entity_id', 'window_start'])
          .doUpdateSet((eb) => ({ window_end: eb.ref('excluded.window_end'), counts: eb.ref('excluded.counts') }))
          // A snapshot of the window older than the stored one (a late retry) changes nothing.
          .where((eb) => eb('excluded.window_end', '>=', eb.ref('server_event_summaries.window_end'))),
      )
      .execute();
  }
}

async function upsertAlerts(trx: ServerStore, agentId: string, alerts: readonly BatchAlert[], now: number): Promise<void> {
  for (const group of chunks(alerts)) {
    await trx
      .insertInto('server_alerts')
      .values(group.map((alert) => alertRow(agentId, alert, now)))
      .onConflict((conflict) =>
        conflict
          .column('id')
          .doUpdateSet((eb) => ({
            dedupe_key: eb.ref('excluded.dedupe_key'),
            rule: eb.ref('excluded.rule'),
            severity: eb.ref('excluded.severity'),
            message: eb.ref('excluded.message'),
            entity_id: eb.ref('excluded.entity_id'),
            entity_name: eb.ref('excluded.entity_name'),
            workload: eb.ref('excluded.workload'),
            profile_id: eb.ref('excluded.profile_id'),
            image: eb.ref('excluded.image'),
            mode: eb.ref('excluded.mode'),
            action_taken: eb.ref('excluded.action_taken'),
            first_at: eb.ref('excluded.first_at'),
            last_at: eb.ref('excluded.last_at'),
            count: eb.ref('excluded.count'),
            received_at: eb.ref('excluded.received_at'),
            document: eb.ref('excluded.document'),
          }))
          // Only the agent that raised an alert updates it, and only with a newer snapshot: an aggregate only grows.
          .where((eb) =>
            eb.and([
              eb('server_alerts.agent_id', '=', eb.ref('excluded.agent_id')),
              eb.or([
                eb('excluded.count', '>', eb.ref('server_alerts.count')),
                eb.and([eb('excluded.count', '=', eb.ref('server_alerts.count')), eb('excluded.last_at', '>', eb.ref('server_alerts.last_at'))]),
              ]),
            ]),
          ),
      )
      .execute();
  }
}

async function storeContributions(trx: ServerStore, agentId: string, profiles: readonly PreparedProfile[], now: number): Promise<void> {
  if (profiles.length === 0) return;
  // Taken before the profiles are read: console actions writing a profile serialise with this merge (PostgreSQL).
  let revision = await nextProfileRevision(trx);
  for (const group of chunks(profiles)) {
    await trx
      .insertInto('server_profile_contributions')
      .values(group.map((profile) => ({ profile_id: profile.id, agent_id: agentId, revision: profile.revision, document: JSON.stringify(profile.profile), received_at: now })))
      .onConflict((conflict) =>
        conflict
          .columns(['profile_id', 'agent_id'])
          .doUpdateSet((eb) => ({ revision: eb.ref('excluded.revision'), document: eb.ref('excluded.document'), received_at: eb.ref('excluded.received_at') }))
          .where((eb) => eb('excluded.revision', '>', eb.ref('server_profile_contributions.revision'))),
      )
      .execute();
  }
  for (const { id } of profiles) {
    if (await mergeFleetProfile(trx, id, revision, now)) revision += 1;
  }
}

/** Merges a profile's current contributions into server_profiles; true when that wrote `revision`. */
async function mergeFleetProfile(trx: ServerStore, id: string, revision: number, now: number): Promise<boolean> {
  const row = await trx.selectFrom('server_profiles').selectAll().where('id', '=', id).executeTakeFirst();
  const decisions = row && decisionsOf(row);
  const rows = await trx.selectFrom('server_profile_contributions').select(['agent_id', 'received_at', 'document']).where('profile_id', '=', id).execute();
  const contributions: Contribution[] = rows.map((contribution) => ({ agentId: contribution.agent_id, receivedAt: Number(contribution.received_at), document: JSON.parse(contribution.document) as Profile }));
  const current = currentContributions(contributions, decisions?.relearnRequestedAt ?? null);
  if (current.length === 0) return false;
  const merged = fleetProfile(
    current.map((contribution) => contribution.document),
    decisions,
  );
  const columns = { workload: merged.key.workload, image_digest: merged.key.imageDigest, image: merged.image ?? null, mode: merged.mode, phase: merged.phase };
  if (!row) {
    await trx
      .insertInto('server_profiles')
      .values({ id, ...columns, revision, document: JSON.stringify({ ...merged, revision }), mode_set_by: null, approved_at: null, approved_by: null, relearn_requested_at: null, created_at: now, updated_at: now })
      .execute();
    return true;
  }
  const unchanged = JSON.stringify({ ...merged, revision: Number(row.revision) }) === row.document && row.mode === merged.mode && row.phase === merged.phase && row.image === columns.image;
  if (unchanged) return false;
  await trx
    .updateTable('server_profiles')
    .set({ ...columns, revision, document: JSON.stringify({ ...merged, revision }), updated_at: now })
    .where('id', '=', id)
    .execute();
  return true;
}
