/** JSON for `nomine audit --json`: the report as is — summary, then one object per check and entity with evidence. */
import type { AuditReport } from '../audit/audit-report.ts';
import type { Reporter } from './reporter.ts';

export const auditJsonReporter: Reporter<AuditReport> = {
  render(report) {
    return `${JSON.stringify({ tool: report.tool, scope: report.scope, checks: report.checks, summary: report.summary, results: report.results, skipped: report.skipped }, null, 2)}\n`;
  },
};
