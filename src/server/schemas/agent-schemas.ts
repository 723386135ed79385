/**
 * What agents and the console say to each other: enrolment with a join token, one batch of what a node saw
 * (entities, event summaries, profiles, alert aggregates, its status) and the profile sync that carries merged
 * profiles, mode changes, approvals and relearn requests back. Bounded everywhere: a batch is outside data.
 */
import { z } from 'zod';
import { alertRules } from '../../alerts/alert.ts';
import { severities } from '../../core/severity.ts';
import { enforcementModes } from '../../profile/profile.ts';

export const maxBatchItems = 5_000;
/** Event types one summary may count (the agent has a dozen). */
export const maxSummaryCountKeys = 64;
/** Profiles one sync answer carries at most; `hasMore` asks the agent to come back for the rest at once. */
export const maxSyncProfiles = 200;
/** A join token lasts at least a minute and at most a year. */
export const maxJoinTokenTtlSeconds = 366 * 86_400;
const shortText = z.string().max(512);
const id = z.string().min(1).max(128).regex(/^[\x21-\x7e]+$/, 'use printable ASCII without spaces');
const millis = z.number().int().nonnegative().max(8.64e15);
/** Nested documents (an entity, a profile) are checked again by the module that reads them. */
const document = z.record(z.string(), z.unknown());

export const enrolRequest = z.strictObject({
  joinToken: z.string().min(16).max(256),
  nodeName: z.string().min(1).max(253).regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'use a host name: letters, digits, dot, dash, underscore'),
  version: z.string().min(1).max(64),
});
export const joinTokenView = z.object({
  id: z.string(),
  name: z.string(),
  /** `user:<id>` or `token:<id>`. */
  createdBy: z.string(),
  createdAt: z.string(),
  expiresAt: z.string(),
  /** null: any number of nodes until it expires. */
  maxUses: z.number().nullable(),
  uses: z.number(),
  revokedAt: z.string().nullable(),
});
export const createJoinTokenRequest = z.strictObject({
  name: z.string().min(1).max(100),
  ttlSeconds: z.number().int().min(60).max(maxJoinTokenTtlSeconds),
  maxUses: z.number().int().min(1).max(1_000_000).optional(),
});
export const createJoinTokenResponse = z.object({
  /** The join token, shown this once: the server keeps only its SHA-256. */
  token: z.string(),
  details: joinTokenView,
});
export const joinTokenListResponse = z.object({ joinTokens: z.array(joinTokenView) });

export const agentView = z.object({
  id: z.string(),
  nodeName: z.string(),
  version: z.string(),
  joinTokenId: z.string(),
  enrolledAt: z.string(),
  lastSeenAt: z.string(),
  revokedAt: z.string().nullable(),
});
export const agentListResponse = z.object({ agents: z.array(agentView) });

export const enrolResponse = z.object({
  agentId: z.string(),
  /** The agent's own credential, shown once; only its digest is stored. */
  credential: z.string(),
});

export const batchEntity = z.strictObject({
  id,
  kind: z.enum(['container', 'host']),
  name: shortText,
  image: shortText.optional(),
  imageDigest: shortText.optional(),
  workload: shortText.optional(),
  profileId: id.optional(),
  /** Present when the entity stopped. */
  goneAt: millis.optional(),
  document,
});

export const batchEventSummary = z
  .strictObject({
    entityId: id,
    windowStart: millis,
    /** The last event counted so far; a later snapshot of the same window replaces an earlier one. */
    windowEnd: millis,
    /** Events by type in the window so far: `{ exec: 12, connect: 40 }`. */
    counts: z
      .record(z.string().min(1).max(32), z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER))
      .refine((counts) => Object.keys(counts).length <= maxSummaryCountKeys, `at most ${maxSummaryCountKeys} event types`),
  })
  .refine((summary) => summary.windowEnd >= summary.windowStart, { message: 'windowEnd is before windowStart', path: ['windowEnd'] });

export const batchProfile = z.strictObject({
  id,
  /** The agent's revision of this profile: an older one never replaces a newer one. */
  revision: z.number().int().nonnegative(),
  /** The Profile document (src/profile/profile.ts). */
  document,
  /**
   * The console's relearn request (its `relearnRequestedAt`) this node has already carried out, if any. A
   * contribution that has not caught up with the latest request was learned before it and is not merged.
   */
  relearnRequestedAt: millis.optional(),
});

export const batchAlert = z.strictObject({
  id,
  dedupeKey: z.string().min(1).max(1024),
  rule: z.enum(alertRules),
  severity: z.enum(severities),
  message: z.string().max(4096),
  entity: z.strictObject({ id, name: shortText }),
  workload: shortText,
  profileId: id.optional(),
  image: shortText.optional(),
  imageDigest: shortText.optional(),
  seen: z.string().max(4096),
  allowed: z.string().max(4096),
  mode: z.enum(enforcementModes),
  phase: z.enum(['learning', 'enforcing']),
  action: z.strictObject({ taken: z.enum(['none', 'killed', 'stopped', 'paused', 'failed']), reason: z.string().max(1024) }),
  firstAt: millis,
  lastAt: millis,
  count: z.number().int().positive(),
});

export const agentBatch = z.strictObject({
  /** Chosen by the agent; a replay with the same id gets the first answer and changes nothing. */
  batchId: id,
  sentAt: millis,
  entities: z.array(batchEntity).max(maxBatchItems).default([]),
  eventSummaries: z.array(batchEventSummary).max(maxBatchItems).default([]),
  profiles: z.array(batchProfile).max(maxBatchItems).default([]),
  alerts: z.array(batchAlert).max(maxBatchItems).default([]),
  status: document.optional(),
});
export type AgentBatch = z.infer<typeof agentBatch>;

export const batchResponse = z.object({
  batchId: z.string(),
  replayed: z.boolean(),
  accepted: z.object({ entities: z.number(), eventSummaries: z.number(), profiles: z.number(), alerts: z.number() }),
});

export const syncQuery = z.strictObject({
  /** The highest server profile revision the agent has applied; 0 for everything. */
  since: z.coerce.number().int().nonnegative().default(0),
});

export const syncedProfile = z.object({
  id: z.string(),
  /** Server revision. */
  revision: z.number(),
  mode: z.enum(enforcementModes),
  /** `user:<id>` when a person chose the mode on the console; such a mode wins over the node's default. */
  modeSetBy: z.string().nullable(),
  approvedAt: z.number().nullable(),
  relearnRequestedAt: z.number().nullable(),
  /** The merged Profile of every node's contribution. */
  document,
  /**
   * The CPU histogram of every node but the asking one. Sets merge by union, but histograms add up: a node keeps
   * its own samples apart from these, so what it sends back is never counted twice.
   */
  othersCpu: z.object({ histogram: z.array(z.number()), bucketCores: z.number(), samples: z.number() }),
});
export const syncResponse = z.object({
  /** Pass as `since` next time. */
  revision: z.number(),
  profiles: z.array(syncedProfile),
  /** More changed profiles wait: ask again at once with the new `since`. */
  hasMore: z.boolean(),
});
export type SyncResponse = z.infer<typeof syncResponse>;
export type SyncedProfile = z.infer<typeof syncedProfile>;
