/**
 * The console's front page in one answer: nodes and whether they are online, running entities by mode, profiles
 * by phase, alerts over time (bucketed for a chart, by severity), the rules and workloads that alert most, the
 * newest alerts, and the headline of the latest scan, audit and probe reports.
 */
import { sql } from 'kysely';
import { severities, severityRank, type Severity } from '../../core/severity.ts';
import { enforcementModes } from '../../profile/profile.ts';
import { overviewRanges, type OverviewResponse } from '../schemas/console-schemas.ts';
import type { ReportKind } from '../schemas/report-schemas.ts';
import type { ServerStore } from '../server-store.ts';
import { listAlerts } from './alert-query.ts';
import { isoOf } from './instant.ts';
import { parseJsonObject } from './json-object.ts';
import { listNodes } from './node-queries.ts';
import { toReportView } from './report-view.ts';

export const overviewLimits = { nodes: 12, ranked: 5, latestAlerts: 8, scanFindings: 8 } as const;

type Range = keyof typeof overviewRanges;
type Reports = OverviewResponse['reports'];

export async function buildOverview(db: ServerStore, range: Range, now: number): Promise<OverviewResponse> {
  const { spanMs, bucketMs } = overviewRanges[range];
  const buckets = Math.round(spanMs / bucketMs);
  // Buckets end on a boundary, the last one holding now; the chart's x axis then steps evenly.
  const from = (Math.floor(now / bucketMs) - buckets + 1) * bucketMs;

  const nodes = await listNodes(db, now);
  const modeRows = await db
    .selectFrom('server_entities as e')
    .leftJoin('server_profiles as p', 'p.id', 'e.profile_id')
    .select([sql<string>`coalesce(p.mode, 'none')`.as('mode'), sql<number>`count(*)`.as('n')])
    .where('e.gone_at', 'is', null)
    .groupBy(sql`coalesce(p.mode, 'none')`)
    .execute();
  const byMode = { learn: 0, alert: 0, prevent: 0, stop: 0, none: 0 };
  for (const row of modeRows) {
    const mode = (enforcementModes as readonly string[]).includes(row.mode) ? (row.mode as keyof typeof byMode) : 'none';
    byMode[mode] += Number(row.n);
  }
  const phaseRows = await db.selectFrom('server_profiles').select(['phase', sql<number>`count(*)`.as('n')]).groupBy('phase').execute();
  const phases = Object.fromEntries(phaseRows.map((row) => [row.phase, Number(row.n)]));

  const alerts = await alertAggregates(db, from, bucketMs, buckets);
  return {
    generatedAt: isoOf(now),
    nodes: { total: nodes.length, online: nodes.filter((node) => node.online).length, list: nodes.slice(0, overviewLimits.nodes) },
    entities: { total: Object.values(byMode).reduce((sum, n) => sum + n, 0), byMode },
    profiles: { total: Object.values(phases).reduce((sum, n) => sum + n, 0), learning: phases.learning ?? 0, enforcing: phases.enforcing ?? 0 },
    alerts: { from: isoOf(from), to: isoOf(now), bucketMs, series: alerts.series, total: Object.values(alerts.bySeverity).reduce((sum, n) => sum + n, 0), bySeverity: alerts.bySeverity },
    topRules: alerts.topRules,
    topWorkloads: alerts.topWorkloads,
    latestAlerts: (await listAlerts(db, { limit: overviewLimits.latestAlerts })).alerts,
    reports: {
      scan: (await latestBrief(db, 'scan')) as Reports['scan'],
      audit: (await latestBrief(db, 'audit')) as Reports['audit'],
      probe: (await latestBrief(db, 'probe')) as Reports['probe'],
    },
  };
}

interface AlertAggregates {
  series: OverviewResponse['alerts']['series'];
  bySeverity: OverviewResponse['alerts']['bySeverity'];
  topRules: OverviewResponse['topRules'];
  topWorkloads: OverviewResponse['topWorkloads'];
}

/**
 * Aggregating alerts reads every alert of the range (through an index that holds all it needs), which is quick on a
 * small store and not on one holding tens of thousands (about 0.1 s here at 50,000). When it was slow, the result
 * is kept: the overview is the same for every viewer and polled, so one computation serves them all. Once older than
 * `ttlMs` it is still answered at once while one request recomputes it behind (stale while revalidating), so no
 * viewer waits for the aggregation after the first; a small store is always exact. Entries unused for `dropMs` go.
 */
export const overviewCache = { slowMs: 50, ttlMs: 5_000, dropMs: 60_000 };
interface CachedAggregates {
  expiresAt: number;
  value: AlertAggregates;
  refreshing?: Promise<unknown>;
}
const slowAggregates = new WeakMap<ServerStore, Map<string, CachedAggregates>>();

async function alertAggregates(db: ServerStore, from: number, bucketMs: number, buckets: number): Promise<AlertAggregates> {
  const key = `${from}/${bucketMs}`;
  const cache = slowAggregates.get(db) ?? new Map<string, CachedAggregates>();
  slowAggregates.set(db, cache);
  // Wall time, not the server's clock: this is about how long the work takes.
  const now = Date.now();
  for (const [other, entry] of cache) if (entry.expiresAt + overviewCache.dropMs <= now) cache.delete(other);
  const kept = cache.get(key);
  if (kept) {
    if (kept.expiresAt <= now && !kept.refreshing) {
      kept.refreshing = computeAlertAggregates(db, from, bucketMs, buckets)
        .then((value) => cache.set(key, { expiresAt: Date.now() + overviewCache.ttlMs, value }))
        .catch(() => (kept.refreshing = undefined));
    }
    return kept.value;
  }
  const started = Date.now();
  const value = await computeAlertAggregates(db, from, bucketMs, buckets);
  if (Date.now() - started > overviewCache.slowMs) cache.set(key, { expiresAt: Date.now() + overviewCache.ttlMs, value });
  return value;
}

async function computeAlertAggregates(db: ServerStore, from: number, bucketMs: number, buckets: number): Promise<AlertAggregates> {
  // The bucket width is a literal from the fixed range table: bound as a parameter, SQLite would divide as REAL.
  const width = sql.lit(bucketMs);
  const seriesRows = await db
    .selectFrom('server_alerts')
    .select([sql<number>`(last_at / ${width}) * ${width}`.as('at'), 'severity', sql<number>`count(*)`.as('n')])
    .where('last_at', '>=', from)
    .groupBy([sql`(last_at / ${width}) * ${width}`, 'severity'])
    .execute();
  const series = Array.from({ length: buckets }, (_, index) => ({ at: isoOf(from + index * bucketMs), info: 0, low: 0, medium: 0, high: 0, critical: 0 }));
  const bySeverity = { info: 0, low: 0, medium: 0, high: 0, critical: 0 };
  for (const row of seriesRows) {
    const index = Math.floor((Number(row.at) - from) / bucketMs);
    const severity = (severities as readonly string[]).includes(row.severity) ? (row.severity as Severity) : 'medium';
    const point = series[Math.min(Math.max(index, 0), buckets - 1)]!;
    point[severity] += Number(row.n);
    bySeverity[severity] += Number(row.n);
  }
  return { series, bySeverity, ...(await ranked(db, from)) };
}

/** The rules and the workloads that alert most, from one pass over the range grouped by both. */
async function ranked(db: ServerStore, from: number): Promise<Pick<AlertAggregates, 'topRules' | 'topWorkloads'>> {
  const rows = await db
    .selectFrom('server_alerts')
    .select(['rule', 'workload', 'severity', sql<number>`count(*)`.as('alerts'), sql<number>`sum(count)`.as('occurrences')])
    .where('last_at', '>=', from)
    .groupBy(['rule', 'workload', 'severity'])
    .execute();
  const rules = new Map<string, OverviewResponse['topRules'][number]>();
  const workloads = new Map<string, OverviewResponse['topRules'][number]>();
  for (const row of rows) {
    const severity = (severities as readonly string[]).includes(row.severity) ? (row.severity as Severity) : 'medium';
    for (const [byKey, key] of [[rules, row.rule], [workloads, row.workload]] as const) {
      const entry = byKey.get(key) ?? { key, alerts: 0, occurrences: 0, worst: severity };
      entry.alerts += Number(row.alerts);
      entry.occurrences += Number(row.occurrences);
      if (severityRank(severity) > severityRank(entry.worst)) entry.worst = severity;
      byKey.set(key, entry);
    }
  }
  const top = (byKey: Map<string, OverviewResponse['topRules'][number]>) =>
    [...byKey.values()]
      .sort((a, b) => severityRank(b.worst) - severityRank(a.worst) || b.alerts - a.alerts || a.key.localeCompare(b.key))
      .slice(0, overviewLimits.ranked);
  return { topRules: top(rules), topWorkloads: top(workloads) };
}

/**
 * Reports never change once stored, so the headline of one is worked out once and kept (a scan report can be
 * megabytes of JSON; the overview is polled).
 */
const briefs = new Map<string, unknown>();
const maxBriefs = 64;

async function latestBrief(db: ServerStore, kind: ReportKind): Promise<unknown> {
  const latest = await db.selectFrom('server_reports').select(['id', 'generated_at']).where('kind', '=', kind).orderBy('received_at', 'desc').orderBy('id').limit(1).executeTakeFirst();
  if (!latest) return null;
  const known = briefs.get(latest.id);
  if (known) return known;
  const row = await db.selectFrom('server_reports').select(['id', 'kind', 'tool_name', 'tool_version', 'generated_at', 'received_at', 'submitted_by', 'document']).where('id', '=', latest.id).executeTakeFirstOrThrow();
  const summary = { id: row.id, kind, tool: { name: row.tool_name, version: row.tool_version }, generatedAt: row.generated_at, receivedAt: isoOf(row.received_at), submittedBy: row.submitted_by };
  const view = toReportView(summary, parseJsonObject(row.document));
  let brief: unknown;
  if (view.scan) {
    brief = {
      id: row.id,
      generatedAt: row.generated_at,
      images: view.scan.images.length,
      totalFindings: view.scan.files.length + view.scan.metadata.length,
      findings: view.scan.files.slice(0, overviewLimits.scanFindings).map((file) => ({
        reportId: row.id,
        image: file.image,
        path: file.path,
        verdict: file.verdict,
        severity: file.severity,
        rule: file.evidence[0]?.rule ?? null,
        summary: file.evidence[0]?.summary ?? null,
      })),
    };
  } else {
    const summaryCounts = view.checks?.summary ?? {};
    brief =
      kind === 'audit'
        ? { id: row.id, generatedAt: row.generated_at, scope: view.checks?.scope ?? null, fail: summaryCounts.fail ?? 0, warn: summaryCounts.warn ?? 0, pass: summaryCounts.pass ?? 0, score: summaryCounts.score ?? null }
        : { id: row.id, generatedAt: row.generated_at, endpoints: view.checks?.endpoints.length ?? 0, fail: summaryCounts.fail ?? 0, pass: summaryCounts.pass ?? 0 };
  }
  if (briefs.size >= maxBriefs) briefs.delete(briefs.keys().next().value!);
  briefs.set(row.id, brief);
  return brief;
}
