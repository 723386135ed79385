/** Audit outcomes: how a report gates a pipeline, as `nomine scan` does. 2 when a check or a collection errored,
 * else 1 when an unwaived failing check reaches the threshold (warnings never gate), else 0. */
import { isAtLeast, type Severity } from '../core/severity.ts';
import type { AuditReport } from './audit-report.ts';

export type AuditOutcome = 'clean' | 'findings' | 'error';

export function auditOutcome(report: AuditReport, failOn: Severity): AuditOutcome {
  const live = report.results.filter((result) => !result.waived);
  if (live.some((result) => result.status === 'error')) return 'error';
  return live.some((result) => result.status === 'fail' && isAtLeast(result.severity, failOn)) ? 'findings' : 'clean';
}
