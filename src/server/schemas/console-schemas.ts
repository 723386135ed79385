/**
 * What the console's web UI reads and sends: the fleet overview, nodes, entities, profiles with their per-node
 * contributions, alerts with filters and cursor pagination, and report views. Queries are strict (an unknown or
 * repeated parameter is a 400 naming it) and bounded; responses are declared so OpenAPI documents them.
 */
import { z } from 'zod';
import { alertRules } from '../../alerts/alert.ts';
import { severities } from '../../core/severity.ts';
import { enforcementModes } from '../../profile/profile.ts';
import { reportKinds } from './report-schemas.ts';

/** Rows one list request returns at most. */
export const maxConsoleListLimit = 500;
export const maxAlertPageLimit = 200;

const text = (max: number) => z.string().min(1).max(max);
/** Agent, entity and profile ids: printable ASCII, as the agents send them (agent-schemas). */
export const fleetId = z.string().min(1).max(128).regex(/^[\x21-\x7e]+$/, 'use printable ASCII without spaces');
const isoInstant = z.iso.datetime({ offset: true, message: 'expected an ISO 8601 time such as 2026-01-01T10:00:00Z' });
const limit = (max: number, fallback: number) => z.coerce.number().int().min(1).max(max).default(fallback);
const time = z.string().describe('ISO 8601 time');
const nullableTime = time.nullable();

export const modeCounts = z.object({ learn: z.number(), alert: z.number(), prevent: z.number(), stop: z.number(), none: z.number() });
export const severityCounts = z.object({ info: z.number(), low: z.number(), medium: z.number(), high: z.number(), critical: z.number() });

// ---- nodes ----

export const nodeView = z.object({
  id: z.string(),
  name: z.string(),
  version: z.string(),
  enrolledAt: time,
  lastSeenAt: time,
  /** Seen within the online window (a few batch intervals). */
  online: z.boolean(),
  revoked: z.boolean(),
  /** Entities the node reports running now. */
  entities: z.number(),
  status: z.record(z.string(), z.unknown()).nullable(),
});
export type NodeView = z.infer<typeof nodeView>;
export const nodeListResponse = z.object({ nodes: z.array(nodeView) });

// ---- entities ----

export const entityQuery = z.strictObject({
  node: fleetId.optional().describe('agent id'),
  kind: z.enum(['container', 'host']).optional(),
  mode: z.enum([...enforcementModes, 'none']).optional().describe('mode of the entity’s profile; none: no profile yet'),
  profile: fleetId.optional(),
  workload: text(512).optional(),
  text: text(200).optional().describe('part of the name, image or workload'),
  state: z.enum(['running', 'gone', 'all']).default('running'),
  limit: limit(maxConsoleListLimit, 200),
});
export type EntityQuery = z.infer<typeof entityQuery>;

export const entityView = z.object({
  agentId: z.string(),
  nodeName: z.string(),
  entityId: z.string(),
  kind: z.string(),
  name: z.string(),
  image: z.string().nullable(),
  imageDigest: z.string().nullable(),
  workload: z.string().nullable(),
  profileId: z.string().nullable(),
  mode: z.enum(enforcementModes).nullable(),
  phase: z.string().nullable(),
  firstSeenAt: time,
  lastSeenAt: time,
  goneAt: nullableTime,
  /** Alert aggregates raised for this entity. */
  alerts: z.number(),
});
export type EntityView = z.infer<typeof entityView>;
export const entityListResponse = z.object({ entities: z.array(entityView), truncated: z.boolean() });
export const entityParams = z.strictObject({ agentId: fleetId, entityId: fleetId });

// ---- profiles ----

const nodeRef = z.object({ agentId: z.string(), nodeName: z.string() });
const learnedFrom = { source: z.string(), firstSeen: nullableTime, nodes: z.array(nodeRef) };

export const allowanceView = z.object({
  processes: z.array(z.object({ exe: z.string(), sha256: z.array(z.string()), parents: z.array(z.string()), ...learnedFrom })),
  egress: z.array(z.object({ address: z.string(), port: z.number(), protocol: z.string(), ...learnedFrom })),
  listen: z.array(z.object({ port: z.number(), protocol: z.string(), ...learnedFrom })),
  fileWrites: z.array(z.object({ pattern: z.string(), ...learnedFrom })),
  /** null: no node's sensor reports syscalls. */
  syscalls: z.array(z.object({ name: z.string(), nodes: z.array(nodeRef) })).nullable(),
  cpu: z.object({ quantileCores: z.number(), samples: z.number(), bucketCores: z.number(), histogram: z.array(z.number()), nodes: z.array(nodeRef.extend({ quantileCores: z.number(), samples: z.number() })) }),
});
export type AllowanceView = z.infer<typeof allowanceView>;

export const profileSummary = z.object({
  id: z.string(),
  workload: z.string(),
  imageDigest: z.string(),
  image: z.string().nullable(),
  mode: z.enum(enforcementModes),
  phase: z.string(),
  revision: z.number(),
  /** `user:<id>` or `token:<id>` when a person chose the mode; null while it follows the agents. */
  modeSetBy: z.string().nullable(),
  modeSetByName: z.string().nullable(),
  approvedAt: nullableTime,
  approvedBy: z.string().nullable(),
  relearnRequestedAt: nullableTime,
  createdAt: time,
  updatedAt: time,
  /** Nodes that contributed to the merged profile. */
  nodes: z.number(),
  /** Entities running with this profile now. */
  entities: z.number(),
});
export type ProfileSummary = z.infer<typeof profileSummary>;

export const profileQuery = z.strictObject({
  mode: z.enum(enforcementModes).optional(),
  phase: z.enum(['learning', 'enforcing']).optional(),
  text: text(200).optional().describe('part of the id, workload or image'),
  limit: limit(maxConsoleListLimit, 200),
});
export type ProfileQuery = z.infer<typeof profileQuery>;
export const profileListResponse = z.object({ profiles: z.array(profileSummary), truncated: z.boolean() });
export const profileParams = z.strictObject({ id: fleetId });

export const alertView = z.object({
  id: z.string(),
  agentId: z.string(),
  nodeName: z.string(),
  rule: z.string(),
  severity: z.enum(severities),
  message: z.string(),
  entityId: z.string(),
  entityName: z.string(),
  workload: z.string(),
  profileId: z.string().nullable(),
  image: z.string().nullable(),
  mode: z.string(),
  action: z.object({ taken: z.string(), reason: z.string() }),
  seen: z.string(),
  allowed: z.string(),
  firstAt: time,
  lastAt: time,
  count: z.number(),
});
export type AlertView = z.infer<typeof alertView>;

export const auditEntry = z.object({ at: time, actor: z.string(), actorName: z.string(), action: z.string(), detail: z.record(z.string(), z.unknown()).nullable() });
export type AuditEntry = z.infer<typeof auditEntry>;

export const contributionView = z.object({
  agentId: z.string(),
  nodeName: z.string(),
  revision: z.number(),
  receivedAt: time,
  phase: z.string().nullable(),
  counts: z.object({ processes: z.number(), egress: z.number(), listen: z.number(), fileWrites: z.number(), syscalls: z.number() }),
});
export type ContributionView = z.infer<typeof contributionView>;

export const profileDetail = profileSummary.extend({
  learningStartedAt: nullableTime,
  enforcingSince: nullableTime,
  allow: allowanceView,
  contributions: z.array(contributionView),
  alerts: z.array(alertView),
  history: z.array(auditEntry),
  /** What could not be read from the stored documents (an agent of another version, say). */
  problems: z.array(z.string()),
});
export type ProfileDetail = z.infer<typeof profileDetail>;

export const setModeRequest = z.strictObject({ mode: z.enum(enforcementModes) });
/** `changed: false` when the action changed nothing (approving an approved profile); `revision` is the profile's now. */
export const profileActionResponse = z.object({ changed: z.boolean(), revision: z.number(), profile: profileDetail });
/** Approve and relearn take no options; an empty object (or no body) is the only valid body. */
export const emptyRequest = z.strictObject({}).nullish();

// ---- entity detail ----

export const entityDetail = z.object({
  entity: entityView,
  document: z.record(z.string(), z.unknown()),
  profile: profileDetail.nullable(),
  alerts: z.array(alertView),
  eventSummaries: z.array(z.object({ windowStart: time, windowEnd: time, counts: z.record(z.string(), z.number()) })),
});

// ---- alerts ----

export const alertQuery = z
  .strictObject({
    rule: z.enum(alertRules).optional(),
    severity: z.enum(severities).optional(),
    /** At least this severity (the UI's "high and above"). */
    minSeverity: z.enum(severities).optional(),
    workload: text(512).optional(),
    node: fleetId.optional().describe('agent id'),
    profile: fleetId.optional(),
    entity: fleetId.optional().describe('entity id (with node for one node’s entity)'),
    since: isoInstant.optional().describe('alerts last seen at or after this time'),
    until: isoInstant.optional().describe('alerts last seen before this time'),
    text: text(200).optional().describe('part of the message, entity name or workload'),
    cursor: z.string().min(1).max(200).regex(/^[A-Za-z0-9_-]+$/, 'expected the nextCursor of an earlier answer').optional(),
    limit: limit(maxAlertPageLimit, 50),
  })
  .refine((query) => !(query.since && query.until) || Date.parse(query.since) < Date.parse(query.until), { message: 'since must be before until', path: ['until'] });
export type AlertQuery = z.infer<typeof alertQuery>;

export const alertListResponse = z.object({
  alerts: z.array(alertView),
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  nextCursor: z.string().nullable(),
});

// ---- overview ----

export const overviewRanges = { '1h': { spanMs: 3_600_000, bucketMs: 300_000 }, '24h': { spanMs: 86_400_000, bucketMs: 3_600_000 }, '7d': { spanMs: 7 * 86_400_000, bucketMs: 6 * 3_600_000 } } as const;
export const overviewQuery = z.strictObject({ range: z.enum(Object.keys(overviewRanges) as [keyof typeof overviewRanges]).default('24h') });

const ranked = z.object({ key: z.string(), alerts: z.number(), occurrences: z.number(), worst: z.enum(severities) });

export const scanFindingBrief = z.object({ reportId: z.string(), image: z.string(), path: z.string(), verdict: z.string(), severity: z.enum(severities), rule: z.string().nullable(), summary: z.string().nullable() });

export const overviewResponse = z.object({
  generatedAt: time,
  nodes: z.object({ total: z.number(), online: z.number(), list: z.array(nodeView) }),
  entities: z.object({ total: z.number(), byMode: modeCounts }),
  profiles: z.object({ total: z.number(), learning: z.number(), enforcing: z.number() }),
  alerts: z.object({
    from: time,
    to: time,
    bucketMs: z.number(),
    /** One point per bucket, oldest first: alert aggregates last seen in it, by severity. */
    series: z.array(severityCounts.extend({ at: time })),
    total: z.number(),
    bySeverity: severityCounts,
  }),
  topRules: z.array(ranked),
  topWorkloads: z.array(ranked),
  latestAlerts: z.array(alertView),
  reports: z.object({
    scan: z.object({ id: z.string(), generatedAt: time, images: z.number(), findings: z.array(scanFindingBrief), totalFindings: z.number() }).nullable(),
    audit: z.object({ id: z.string(), generatedAt: time, scope: z.string().nullable(), fail: z.number(), warn: z.number(), pass: z.number(), score: z.number().nullable() }).nullable(),
    probe: z.object({ id: z.string(), generatedAt: time, endpoints: z.number(), fail: z.number(), pass: z.number() }).nullable(),
  }),
});
export type OverviewResponse = z.infer<typeof overviewResponse>;

// ---- report views ----

const evidenceView = z.object({ summary: z.string(), rule: z.string().nullable(), analyzer: z.string().nullable(), strength: z.string().nullable(), severity: z.string().nullable(), location: z.string().nullable() });
export type EvidenceView = z.infer<typeof evidenceView>;

export const scanFileView = z.object({
  image: z.string(),
  path: z.string(),
  layer: z.string(),
  layerIndex: z.number().nullable(),
  sha256: z.string(),
  size: z.number().nullable(),
  verdict: z.string(),
  severity: z.enum(severities),
  presentInFinalImage: z.boolean(),
  removedBy: z.string().nullable(),
  evidence: z.array(evidenceView),
});
export type ScanFileView = z.infer<typeof scanFileView>;

export const checkResultView = z.object({
  status: z.string(),
  /** What the result is about: `container web-1`, `127.0.0.1:2375`. */
  subject: z.string(),
  detail: z.string().nullable(),
  evidence: z.array(z.object({ summary: z.string(), location: z.string().nullable() })),
  waived: z.string().nullable(),
});
export const checkView = z.object({
  checkId: z.string(),
  title: z.string(),
  severity: z.enum(severities),
  remediation: z.string().nullable(),
  references: z.array(z.string()),
  /** The worst status of its results: fail > error > warn > pass > not-applicable. */
  status: z.string(),
  counts: z.record(z.string(), z.number()),
  results: z.array(checkResultView),
});
export type CheckView = z.infer<typeof checkView>;

export const reportView = z.object({
  id: z.string(),
  kind: z.enum(reportKinds),
  tool: z.object({ name: z.string(), version: z.string() }),
  generatedAt: time,
  receivedAt: time,
  problems: z.array(z.string()),
  scan: z
    .object({
      images: z.array(z.object({ image: z.string(), digest: z.string().nullable(), layers: z.number(), findings: z.number(), error: z.string().nullable() })),
      files: z.array(scanFileView),
      metadata: z.array(z.object({ image: z.string(), verdict: z.string(), severity: z.enum(severities), evidence: z.array(evidenceView) })),
    })
    .nullable(),
  checks: z
    .object({
      scope: z.string().nullable(),
      summary: z.record(z.string(), z.number()),
      checks: z.array(checkView),
      /** Probe only: every endpoint with its state and services. */
      endpoints: z.array(z.object({ endpoint: z.string(), target: z.string(), status: z.string(), services: z.array(z.string()), problems: z.array(z.string()) })),
    })
    .nullable(),
});
export type ReportView = z.infer<typeof reportView>;
