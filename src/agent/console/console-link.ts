/**
 * The agent's link with the console, beside the alert output: every interval one batch (entities that started,
 * changed or stopped, event summaries, profiles whose revision moved, the agent's status), then a profile sync.
 *
 * A batch is written to $NOMINE_HOME/console/pending-batch.json, with its id, before it is first sent, and removed
 * once the console answered it: after a crash or while the console is down the same batch is sent again, which
 * the console answers as a replay. No new batch is made while one is pending, so batches arrive in order. The
 * sync applies the fleet's profiles through the profile engine and records the console revision applied (and, per
 * profile, what profile-exchange.ts needs) in console/sync-state.json, so a restart resumes where it stopped.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { backoffDelayMs } from '../../alerts/backoff.ts';
import type { Profile } from '../../profile/profile.ts';
import { profileIdFor, workloadFor, workloadKeyFor } from '../../profile/workload-key.ts';
import { agentBatch, maxBatchItems, type AgentBatch } from '../../server/schemas/agent-schemas.ts';
import { parseProfileDocument } from '../../server/schemas/profile-document-schema.ts';
import type { Entity, EntityChange } from '../entity.ts';
import type { ProfileEngine } from '../profile-engine.ts';
import { ConsoleRequestError, type ConsoleClient } from './console-client.ts';
import type { EventSummaries } from './event-summaries.ts';
import { applyFleetProfile, contributionOf, type FleetProfileState } from './profile-exchange.ts';
import { readStateFile, removeStateFile, writeStateFile } from './state-file.ts';

/** Default time between batches (and syncs). */
export const defaultConsoleIntervalMs = 10_000;
/** The longest wait between tries while the console is down. */
export const maxConsoleBackoffMs = 60_000;
/** Bytes a batch is filled to; what is left goes in the next one, at once (the console takes up to 8 MiB). */
export const batchBudgetBytes = 2 * 1024 * 1024;
/** Sync pages applied in one round at most (a page is up to 200 profiles). */
const maxSyncPages = 50;
/**
 * A profile whose CPU envelope alone moved (every sample moves it) goes to the console at most this often: each
 * contribution is merged again with every other node's, and the new merge goes back to every node.
 */
export const cpuOnlyContributionMs = 60_000;
/** How long the last batch at shutdown may take. */
export const shutdownFlushMs = 3_000;

export interface ConsoleLinkOptions {
  client: ConsoleClient;
  home: string;
  agentId: string;
  intervalMs?: number;
  registry: { entities(): Entity[]; subscribe(listener: (change: EntityChange) => void): () => void };
  engine: Pick<ProfileEngine, 'profiles' | 'applyRemote'>;
  summaries: EventSummaries;
  status: () => Record<string, unknown>;
  log: (message: string) => void;
  now?: () => number;
}

export interface ConsoleLinkStats {
  /** Batches the console answered (replays included). */
  batches: number;
  /** Batches the console refused for good (and that were dropped). */
  refused: number;
  /** Failed tries (each retried). */
  failures: number;
  isFailing: boolean;
  lastError?: string;
  /** The console's profile revision applied here. */
  syncedRevision: number;
  /** Fleet profiles taken into this node's store. */
  profilesApplied: number;
  /** Event summary windows dropped while the console could not be reached. */
  summariesDropped: number;
}

export interface ConsoleLink {
  /** Runs until `signal` aborts, then sends one last batch (briefly). */
  run(signal: AbortSignal): Promise<void>;
  stats(): ConsoleLinkStats;
}

const syncStateSchema = z.object({
  agentId: z.string(),
  revision: z.number().int().nonnegative(),
  profiles: z.record(
    z.string(),
    z.object({
      othersCpu: z.object({ histogram: z.array(z.number()), bucketCores: z.number().positive(), samples: z.number() }).optional(),
      approvedAt: z.number().optional(),
      relearnRequestedAt: z.number().optional(),
    }),
  ),
});
type SyncState = z.infer<typeof syncStateSchema>;

export function consoleStateDir(home: string): string {
  return join(home, 'console');
}

function clip(text: string, max: number): string {
  return text.length > max ? text.slice(0, max) : text;
}

/** An entity as a batch carries it; undefined when its id is not one the console takes. */
export function batchEntityOf(entity: Entity, goneAt?: number): AgentBatch['entities'][number] | undefined {
  if (!/^[\x21-\x7e]{1,128}$/.test(entity.id)) return undefined;
  const key = workloadKeyFor(entity);
  return {
    id: entity.id,
    kind: entity.runtime === 'host' ? 'host' : 'container',
    name: clip(entity.name, 512),
    ...(entity.image ? { image: clip(entity.image, 512) } : {}),
    ...(entity.imageDigest ? { imageDigest: clip(entity.imageDigest, 512) } : {}),
    workload: clip(workloadFor(entity), 512),
    profileId: profileIdFor(key),
    ...(goneAt !== undefined ? { goneAt: Math.max(0, Math.floor(goneAt)) } : {}),
    document: JSON.parse(JSON.stringify(entity)) as Record<string, unknown>,
  };
}

export function createConsoleLink(options: ConsoleLinkOptions): ConsoleLink {
  const intervalMs = options.intervalMs ?? defaultConsoleIntervalMs;
  const now = options.now ?? Date.now;
  const dir = consoleStateDir(options.home);
  const pendingFile = join(dir, 'pending-batch.json');
  const stateFile = join(dir, 'sync-state.json');
  const stats: ConsoleLinkStats = { batches: 0, refused: 0, failures: 0, isFailing: false, syncedRevision: 0, profilesApplied: 0, summariesDropped: 0 };

  // Entities to report: every one known at start, then whatever starts or stops.
  const known = new Map<string, Entity>();
  const changed = new Map<string, { entity: Entity; goneAt?: number }>();
  for (const entity of options.registry.entities()) {
    known.set(entity.id, entity);
    changed.set(entity.id, { entity });
  }
  const unsubscribe = options.registry.subscribe((change) => {
    if (change.type === 'start') {
      known.set(change.entity.id, change.entity);
      changed.set(change.entity.id, { entity: change.entity });
    } else {
      const entity = known.get(change.entityId);
      if (!entity) return;
      known.delete(change.entityId);
      changed.set(change.entityId, { entity, goneAt: change.at });
    }
  });
  /** Each profile as last put in a batch: its revision, what it allows but CPU, and when. */
  const sent = new Map<string, { revision: number; shape: string; at: number }>();
  const shapeOf = (profile: Profile) => JSON.stringify({ ...profile, allow: { ...profile.allow, cpu: undefined }, revision: undefined });
  let state: SyncState = { agentId: options.agentId, revision: 0, profiles: {} };

  async function loadState(): Promise<void> {
    try {
      const parsed = syncStateSchema.safeParse(await readStateFile(stateFile));
      // Another enrolment's state says nothing about this one: start over.
      if (parsed.success && parsed.data.agentId === options.agentId) state = parsed.data;
    } catch (error) {
      options.log(`console: the sync state cannot be read (${(error as Error).message}); syncing everything again`);
    }
    stats.syncedRevision = state.revision;
  }

  /** The next batch from what is waiting, and whether more is left for another one. */
  function build(): { batch: AgentBatch; more: boolean } {
    let bytes = 0;
    let more = false;
    const entities: AgentBatch['entities'] = [];
    for (const [id, { entity, goneAt }] of changed) {
      if (bytes >= batchBudgetBytes || entities.length >= maxBatchItems) {
        more = true;
        break;
      }
      changed.delete(id);
      const item = batchEntityOf(entity, goneAt);
      if (!item) continue;
      entities.push(item);
      bytes += JSON.stringify(item).length;
    }
    const eventSummaries = options.summaries.take(now(), maxBatchItems);
    if (eventSummaries.length === maxBatchItems) more = true;
    bytes += eventSummaries.length * 120;
    const profiles: AgentBatch['profiles'] = [];
    for (const profile of options.engine.profiles() as Profile[]) {
      const last = sent.get(profile.id);
      if (last?.revision === profile.revision) continue;
      const shape = shapeOf(profile);
      if (last && last.shape === shape && now() - last.at < cpuOnlyContributionMs && now() >= last.at) continue;
      if (bytes >= batchBudgetBytes || profiles.length >= maxBatchItems) {
        more = true;
        break;
      }
      sent.set(profile.id, { revision: profile.revision, shape, at: now() });
      const contribution = contributionOf(profile, state.profiles[profile.id]);
      if (!contribution) continue;
      const item = { id: contribution.id, revision: contribution.revision, document: contribution.document as unknown as Record<string, unknown>, ...(contribution.relearnRequestedAt !== undefined ? { relearnRequestedAt: contribution.relearnRequestedAt } : {}) };
      profiles.push(item);
      bytes += JSON.stringify(item).length;
    }
    const batch: AgentBatch = { batchId: randomUUID(), sentAt: now(), entities, eventSummaries, profiles, alerts: [], status: options.status() };
    return { batch, more };
  }

  /** Sends a batch until the console answers it; throws while it cannot be reached (the batch stays pending). */
  async function deliver(batch: AgentBatch): Promise<void> {
    try {
      await options.client.postBatch(batch);
      stats.batches += 1;
    } catch (error) {
      if (!(error instanceof ConsoleRequestError && error.isRefusal)) throw error;
      // Resending the same content cannot help: drop it, say so, go on with the next.
      stats.refused += 1;
      options.log(`console: batch ${batch.batchId} refused for good, dropped: ${error.describe()}`);
    }
    await removeStateFile(pendingFile);
  }

  async function sendPending(): Promise<void> {
    let pending: unknown;
    try {
      pending = await readStateFile(pendingFile);
    } catch (error) {
      options.log(`console: the pending batch cannot be read (${(error as Error).message}); dropping it`);
      await removeStateFile(pendingFile);
      return;
    }
    if (pending === undefined) return;
    const parsed = agentBatch.safeParse(pending);
    if (!parsed.success) {
      options.log('console: the pending batch is damaged; dropping it');
      await removeStateFile(pendingFile);
      return;
    }
    await deliver(parsed.data);
  }

  async function sendNew(): Promise<void> {
    for (let round = 0; round < 100; round++) {
      const { batch, more } = build();
      // Persisted before the first try: whatever happens next, a retry carries the same id and content.
      await writeStateFile(pendingFile, batch);
      await deliver(batch);
      if (!more) return;
    }
  }

  async function syncOnce(): Promise<void> {
    for (let page = 0; page < maxSyncPages; page++) {
      const answer = await options.client.sync(state.revision);
      for (const synced of answer.profiles) {
        const parsed = parseProfileDocument(synced.document);
        if (!parsed.ok || parsed.profile.id !== synced.id) {
          options.log(`console: fleet profile ${synced.id} ignored: ${parsed.ok ? 'its document is another profile' : parsed.problem}`);
          continue;
        }
        let next: FleetProfileState | undefined;
        let isApplied = false;
        await options.engine.applyRemote(synced.id, (current) => {
          const applied = applyFleetProfile(current, { ...synced, document: parsed.profile }, state.profiles[synced.id], now());
          next = applied.state;
          isApplied = applied.profile !== undefined;
          return applied.profile && applied.change ? { profile: applied.profile, change: applied.change } : undefined;
        });
        if (next) state.profiles[synced.id] = next;
        if (isApplied) stats.profilesApplied += 1;
      }
      const moved = answer.revision !== state.revision || answer.profiles.length > 0;
      state.revision = answer.revision;
      stats.syncedRevision = answer.revision;
      if (moved) await writeStateFile(stateFile, state);
      if (!answer.hasMore) return;
    }
  }

  async function round(): Promise<void> {
    await sendPending();
    await sendNew();
    await syncOnce();
  }

  return {
    async run(signal) {
      await loadState();
      let failuresInRow = 0;
      try {
        while (!signal.aborted) {
          let waitMs = intervalMs;
          try {
            await round();
            if (stats.isFailing) options.log(`console: ${options.client.server} reachable again`);
            stats.isFailing = false;
            failuresInRow = 0;
          } catch (error) {
            stats.failures += 1;
            failuresInRow += 1;
            const message = error instanceof Error ? error.message : String(error);
            if (!stats.isFailing || message !== stats.lastError) options.log(`console: ${message}; retrying (nothing is lost meanwhile)`);
            stats.isFailing = true;
            stats.lastError = message;
            const retryAfter = error instanceof ConsoleRequestError ? error.retryAfterMs : undefined;
            waitMs = retryAfter ?? backoffDelayMs(failuresInRow, { baseMs: intervalMs, maxMs: maxConsoleBackoffMs });
          }
          stats.summariesDropped = options.summaries.dropped;
          await sleep(waitMs, undefined, { signal }).catch(() => undefined);
        }
        // One last batch, so the console hears the last counts and that entities stopped; briefly.
        await Promise.race([sendPending().then(sendNew), sleep(shutdownFlushMs, undefined, { ref: false })]).catch(() => undefined);
      } finally {
        unsubscribe();
      }
    },
    stats: () => ({ ...stats, summariesDropped: options.summaries.dropped }),
  };
}
