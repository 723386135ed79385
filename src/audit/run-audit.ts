/**
 * Running an audit: every loaded check whose target matches an entity is evaluated against its facts; evidence
 * paths are placed at their source, benchmark references and waivers attached. Collection errors become `error`
 * results named after the collector, so a malformed manifest is visible and the rest of the run still counts.
 */
import type { Collection } from './audit-entity.ts';
import { summarise, type AuditReport, type AuditResult } from './audit-report.ts';
import type { BenchmarkIndex } from './benchmarks.ts';
import type { CheckDefinition } from './check-definition.ts';
import { evaluate } from './evaluate.ts';
import { decideWaiver, type Waiver } from './waivers.ts';

/** The pseudo check every collection error is reported under. */
export const collectionCheckId = 'audit.collect';

export interface AuditInput {
  scope: AuditReport['scope'];
  tool: AuditReport['tool'];
  checks: readonly CheckDefinition[];
  collection: Collection;
  benchmarks: BenchmarkIndex;
  waivers: readonly Waiver[];
  now: number;
}

function withWaiver(result: AuditResult, waivers: readonly Waiver[], now: number): AuditResult {
  if (result.status === 'pass' || result.status === 'not-applicable') return result;
  const decision = decideWaiver(waivers, result.checkId, result.entity.name, now);
  if (decision.waived) return { ...result, waived: { reason: decision.reason, ...(decision.expires ? { expires: decision.expires } : {}) } };
  return decision.expired ? { ...result, waiverExpired: decision.expired } : result;
}

export function runAudit(input: AuditInput): AuditReport {
  const results: AuditResult[] = [];
  const references = (checkId: string) => (input.benchmarks.get(checkId) ?? []).map((ref) => `${ref.benchmark} ${ref.control}`);
  for (const error of input.collection.errors) {
    results.push({
      checkId: collectionCheckId,
      title: 'Facts could be collected',
      severity: 'medium',
      status: 'error',
      entity: { kind: error.kind, name: error.name, ...(error.target ? { target: error.target } : {}) },
      evidence: [{ summary: `${error.code}: ${error.message}`, ...(error.location ? { location: error.location } : {}) }],
      message: error.message,
      references: [],
    });
  }
  for (const entity of input.collection.entities) {
    for (const check of input.checks) {
      if (check.target !== entity.target) continue;
      const outcome = evaluate(check, entity.facts);
      const evidence = outcome.evidence.map((item) => {
        const location = item.field ? safeLocate(entity.locate, item.field) : undefined;
        return { summary: item.summary, ...(item.field ? { field: item.field } : {}), ...(location ? { location } : {}) };
      });
      results.push(
        withWaiver(
          {
            checkId: check.id,
            title: check.title,
            severity: check.severity,
            status: outcome.status,
            entity: { kind: entity.kind, name: entity.name, target: entity.target },
            evidence,
            ...(outcome.message ? { message: outcome.message } : {}),
            ...(outcome.status === 'fail' || outcome.status === 'warn' ? { remediation: check.remediation } : {}),
            references: references(check.id),
          },
          input.waivers,
          input.now,
        ),
      );
    }
  }
  return { tool: input.tool, scope: input.scope, checks: input.checks.length, results, skipped: input.collection.skipped, summary: summarise(results) };
}

function safeLocate(locate: ((field: string) => import('../core/finding.ts').Location | undefined) | undefined, field: string) {
  try {
    return locate?.(field);
  } catch {
    return undefined; // a location is a courtesy; the result stands without it
  }
}
