/**
 * The audit report: every check's result for every entity it targets, with evidence placed at its source,
 * benchmark references, waivers, and a summary score. What reporters render and the exit code is decided on.
 */
import type { Evidence, Subject } from '../core/finding.ts';
import { type Severity } from '../core/severity.ts';
import type { CheckStatus } from './evaluate.ts';

export interface AuditResult {
  checkId: string;
  title: string;
  severity: Severity;
  status: CheckStatus;
  entity: { kind: Subject['kind']; name: string; target?: string };
  evidence: (Evidence & { field?: string })[];
  message?: string;
  remediation?: string;
  /** `CIS Docker Benchmark 1.6.0 5.5`. */
  references: string[];
  waived?: { reason: string; expires?: string };
  /** A waiver that matched but has run out. */
  waiverExpired?: { reason: string; expires: string };
}

export interface AuditSummary {
  pass: number;
  fail: number;
  warn: number;
  notApplicable: number;
  error: number;
  waived: number;
  /** 0–100: severity-weighted share of applicable, unwaived checks that pass (warn counts half). */
  score: number;
}

export interface AuditReport {
  tool: { name: string; version: string };
  scope: 'docker' | 'k8s';
  checks: number;
  results: AuditResult[];
  skipped: { name: string; reason: string }[];
  summary: AuditSummary;
}

const weights: Record<Severity, number> = { info: 0.5, low: 1, medium: 2, high: 3, critical: 4 };

export function summarise(results: readonly AuditResult[]): AuditSummary {
  const summary: AuditSummary = { pass: 0, fail: 0, warn: 0, notApplicable: 0, error: 0, waived: 0, score: 100 };
  let earned = 0;
  let possible = 0;
  for (const result of results) {
    if (result.waived) {
      summary.waived += 1;
      continue;
    }
    if (result.status === 'not-applicable') summary.notApplicable += 1;
    else summary[result.status] += 1;
    if (result.status === 'pass' || result.status === 'fail' || result.status === 'warn') {
      const weight = weights[result.severity];
      possible += weight;
      earned += result.status === 'pass' ? weight : result.status === 'warn' ? weight / 2 : 0;
    }
  }
  summary.score = possible === 0 ? 100 : Math.round((earned / possible) * 1000) / 10;
  return summary;
}
