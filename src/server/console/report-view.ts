/**
 * Report views: the JSON documents `nomine scan|audit|probe --json` produce, reshaped for the console — a scan as
 * flagged files each with its evidence, an audit or a probe as checks each with its results. The documents are
 * outside data (any tool version, any submitter), so reading is lenient and bounded: what cannot be read is
 * skipped and said in `problems`, never a failed page.
 */
import { z } from 'zod';
import { isSeverity, severityRank, type Severity } from '../../core/severity.ts';
import { probeChecks } from '../../probe/probe-checks.ts';
import type { CheckView, EvidenceView, ReportView, ScanFileView } from '../schemas/console-schemas.ts';
import type { ReportSummary } from '../schemas/report-schemas.ts';
import { isJsonObject } from './json-object.ts';

/** Bounds of one view: a report past them is shown in part, with a problem saying so. */
export const reportViewLimits = { files: 5_000, evidencePerItem: 100, results: 20_000, endpoints: 5_000 } as const;
const maxText = 4_096;

const label = z.string().transform((value) => value.slice(0, maxText));
const optionalLabel = label.optional().catch(undefined);
const severity = z.string().transform((value): Severity => (isSeverity(value) ? value : 'medium')).catch('medium' as Severity);
const location = z
  .object({ path: label, line: z.number().int().nonnegative().optional().catch(undefined), layer: optionalLabel })
  .optional()
  .catch(undefined);

const signal = z.object({
  summary: label,
  rule: optionalLabel,
  analyzer: optionalLabel,
  strength: optionalLabel,
  severity: optionalLabel,
  location,
});

const fileFinding = z.object({
  image: label,
  path: label,
  layer: label.catch(''),
  layerIndex: z.number().int().nonnegative().optional().catch(undefined),
  sha256: label.catch(''),
  size: z.number().nonnegative().optional().catch(undefined),
  verdict: label,
  severity,
  evidence: z.array(z.unknown()).catch([]),
  presentInFinalImage: z.boolean().catch(true),
  removedBy: z.object({ by: optionalLabel, layerIndex: z.number().optional().catch(undefined), layer: optionalLabel }).optional().catch(undefined),
});

const metadataFinding = z.object({ image: label, verdict: label, severity, evidence: z.array(z.unknown()).catch([]) });

const imageSummary = z.object({
  image: label,
  digest: optionalLabel,
  layers: z.array(z.unknown()).catch([]),
  counts: z.object({ findings: z.number().catch(0) }).optional().catch(undefined),
  error: z.object({ code: optionalLabel, message: label.catch('') }).optional().catch(undefined),
});

const auditResult = z.object({
  checkId: label,
  title: label.catch(''),
  severity,
  status: label,
  entity: z.object({ kind: optionalLabel, name: label.catch('') }).catch({ name: '' }),
  evidence: z.array(z.unknown()).catch([]),
  message: optionalLabel,
  remediation: optionalLabel,
  references: z.array(label).catch([]),
  waived: z.object({ reason: label.catch('waived') }).optional().catch(undefined),
});

const probeOutcome = z.object({
  checkId: label,
  status: label,
  evidence: z.array(z.unknown()).catch([]),
  detail: optionalLabel,
  title: optionalLabel,
  severity: z.string().optional().catch(undefined),
  remediation: optionalLabel,
});

const probeEndpoint = z.object({
  target: label.catch(''),
  endpoint: label,
  status: label.catch('error'),
  services: z.array(label).catch([]),
  outcomes: z.array(z.unknown()).catch([]),
  problems: z.array(z.object({ probe: label.catch(''), message: label.catch('') })).catch([]),
});

export function toReportView(summary: ReportSummary, document: unknown): ReportView {
  const problems: string[] = [];
  const report = isJsonObject(document) ? document : {};
  if (!isJsonObject(document)) problems.push('the stored report is not a JSON object');
  const base = { id: summary.id, kind: summary.kind, tool: summary.tool, generatedAt: summary.generatedAt, receivedAt: summary.receivedAt, problems };
  switch (summary.kind) {
    case 'scan':
      return { ...base, scan: scanView(report, problems), checks: null };
    case 'audit':
      return { ...base, scan: null, checks: auditView(report, problems) };
    case 'probe':
      return { ...base, scan: null, checks: probeView(report, problems) };
  }
}

/** Entries of `list` that parse, at most `limit`; the rest are counted into one problem per kind. */
function readList<T>(value: unknown, schema: z.ZodType<T>, limit: number, what: string, problems: string[]): T[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    problems.push(`${what} is not a list`);
    return [];
  }
  if (value.length > limit) problems.push(`${value.length} ${what}: the first ${limit} are shown`);
  const items: T[] = [];
  let skipped = 0;
  for (const item of value.slice(0, limit)) {
    const parsed = schema.safeParse(item);
    if (parsed.success) items.push(parsed.data);
    else skipped += 1;
  }
  if (skipped > 0) problems.push(`${skipped} malformed ${what} skipped`);
  return items;
}

function where(place: { path: string; line?: number | undefined; layer?: string | undefined } | undefined): string | null {
  if (!place) return null;
  return `${place.path}${place.line !== undefined ? `:${place.line}` : ''}`;
}

function evidenceOf(list: unknown[], what: string, problems: string[]): EvidenceView[] {
  return readList(list, signal, reportViewLimits.evidencePerItem, what, problems).map((item) => ({
    summary: item.summary,
    rule: item.rule ?? null,
    analyzer: item.analyzer ?? null,
    strength: item.strength ?? null,
    severity: item.severity ?? null,
    location: where(item.location),
  }));
}

function bySeverityDesc<T extends { severity: Severity }>(a: T, b: T): number {
  return severityRank(b.severity) - severityRank(a.severity);
}

function scanView(report: Record<string, unknown>, problems: string[]): NonNullable<ReportView['scan']> {
  if (report.findings === undefined && report.images === undefined) problems.push('no findings or images in this report: is it the output of `nomine scan --json`?');
  const files: ScanFileView[] = readList(report.findings, fileFinding, reportViewLimits.files, 'flagged files', problems).map((finding) => ({
    image: finding.image,
    path: finding.path,
    layer: finding.layer,
    layerIndex: finding.layerIndex ?? null,
    sha256: finding.sha256,
    size: finding.size ?? null,
    verdict: finding.verdict,
    severity: finding.severity,
    presentInFinalImage: finding.presentInFinalImage,
    removedBy: finding.removedBy
      ? `${finding.removedBy.by ?? 'removed'}${finding.removedBy.layerIndex !== undefined ? ` in layer ${finding.removedBy.layerIndex}` : ''}`
      : null,
    evidence: evidenceOf(finding.evidence, `evidence entries of ${finding.path}`, problems),
  }));
  const metadata = readList(report.metadata, metadataFinding, reportViewLimits.files, 'metadata findings', problems).map((finding) => ({
    image: finding.image,
    verdict: finding.verdict,
    severity: finding.severity,
    evidence: evidenceOf(finding.evidence, `evidence entries of ${finding.image}`, problems),
  }));
  const images = readList(report.images, imageSummary, reportViewLimits.files, 'images', problems).map((image) => ({
    image: image.image,
    digest: image.digest ?? null,
    layers: image.layers.length,
    findings: image.counts?.findings ?? files.filter((file) => file.image === image.image).length,
    error: image.error ? `${image.error.code ? `${image.error.code}: ` : ''}${image.error.message}` : null,
  }));
  return { images, files: files.sort(bySeverityDesc), metadata: metadata.sort(bySeverityDesc) };
}

/** Worst first: a check's status is the worst of its results'. */
const statusOrder = ['fail', 'error', 'warn', 'pass', 'not-applicable', 'waived'];

function statusRank(status: string): number {
  const rank = statusOrder.indexOf(status);
  return rank < 0 ? statusOrder.length : rank;
}

function worstStatus(statuses: string[]): string {
  return statuses.reduce((worst, status) => (statusRank(status) < statusRank(worst) ? status : worst), statuses[0] ?? 'not-applicable');
}

function sortChecks(checks: CheckView[]): CheckView[] {
  return checks.sort((a, b) => statusRank(a.status) - statusRank(b.status) || bySeverityDesc(a, b) || a.checkId.localeCompare(b.checkId));
}

function numbers(value: unknown): Record<string, number> {
  const counts: Record<string, number> = {};
  if (isJsonObject(value)) for (const [key, count] of Object.entries(value).slice(0, 32)) if (typeof count === 'number' && Number.isFinite(count)) counts[key.slice(0, 64)] = count;
  return counts;
}

function auditView(report: Record<string, unknown>, problems: string[]): NonNullable<ReportView['checks']> {
  if (report.results === undefined) problems.push('no results in this report: is it the output of `nomine audit --json`?');
  const checks = new Map<string, CheckView>();
  for (const result of readList(report.results, auditResult, reportViewLimits.results, 'check results', problems)) {
    const check = checks.get(result.checkId) ?? {
      checkId: result.checkId,
      title: result.title || result.checkId,
      severity: result.severity,
      remediation: result.remediation ?? null,
      references: result.references,
      status: 'not-applicable',
      counts: {},
      results: [],
    };
    const status = result.waived ? 'waived' : result.status;
    check.counts[status] = (check.counts[status] ?? 0) + 1;
    const evidence = readList(result.evidence, z.object({ summary: label, location }), reportViewLimits.evidencePerItem, `evidence entries of ${result.checkId}`, problems);
    check.results.push({
      status,
      subject: `${result.entity.kind ? `${result.entity.kind} ` : ''}${result.entity.name}`.trim(),
      detail: result.message ?? null,
      evidence: evidence.map((item) => ({ summary: item.summary, location: where(item.location) })),
      waived: result.waived?.reason ?? null,
    });
    checks.set(result.checkId, check);
  }
  for (const check of checks.values()) check.status = worstStatus(check.results.map((result) => result.status));
  const scope = typeof report.scope === 'string' ? report.scope.slice(0, 64) : null;
  return { scope, summary: numbers(report.summary), checks: sortChecks([...checks.values()]), endpoints: [] };
}

function probeView(report: Record<string, unknown>, problems: string[]): NonNullable<ReportView['checks']> {
  if (report.endpoints === undefined) problems.push('no endpoints in this report: is it the output of `nomine probe --json`?');
  const endpoints = readList(report.endpoints, probeEndpoint, reportViewLimits.endpoints, 'endpoints', problems);
  const checks = new Map<string, CheckView>();
  let results = 0;
  for (const endpoint of endpoints) {
    for (const outcome of readList(endpoint.outcomes, probeOutcome, reportViewLimits.evidencePerItem, `check outcomes of ${endpoint.endpoint}`, problems)) {
      if (++results > reportViewLimits.results) break;
      const known = (probeChecks as Record<string, { title: string; severity: Severity; remediation: string } | undefined>)[outcome.checkId];
      const check = checks.get(outcome.checkId) ?? {
        checkId: outcome.checkId,
        title: outcome.title ?? known?.title ?? outcome.checkId,
        severity: outcome.severity && isSeverity(outcome.severity) ? outcome.severity : (known?.severity ?? 'medium'),
        remediation: outcome.remediation ?? known?.remediation ?? null,
        references: [],
        status: 'pass',
        counts: {},
        results: [],
      };
      check.counts[outcome.status] = (check.counts[outcome.status] ?? 0) + 1;
      const evidence = readList(outcome.evidence, z.object({ request: label, answer: label.catch('') }), reportViewLimits.evidencePerItem, `evidence entries of ${outcome.checkId}`, problems);
      check.results.push({
        status: outcome.status,
        subject: endpoint.endpoint,
        detail: outcome.detail ?? null,
        evidence: evidence.map((item) => ({ summary: `${item.request} → ${item.answer}`, location: null })),
        waived: null,
      });
      checks.set(outcome.checkId, check);
    }
  }
  if (results > reportViewLimits.results) problems.push(`more than ${reportViewLimits.results} check outcomes: the first ${reportViewLimits.results} are shown`);
  for (const check of checks.values()) check.status = worstStatus(check.results.map((result) => result.status));
  return {
    scope: null,
    summary: numbers(report.summary),
    checks: sortChecks([...checks.values()]),
    endpoints: endpoints.map((endpoint) => ({
      endpoint: endpoint.endpoint,
      target: endpoint.target,
      status: endpoint.status,
      services: endpoint.services.slice(0, 32),
      problems: endpoint.problems.slice(0, 32).map((problem) => `${problem.probe}: ${problem.message}`),
    })),
  };
}
