/**
 * The terminal table for `nomine audit`: failures, warnings and errors first, grouped by entity, each with its
 * evidence and fix; passes are counted, not listed (a clean host should be a short screen).
 */
import Table from 'cli-table3';
import pc from 'picocolors';
import type { AuditReport, AuditResult } from '../audit/audit-report.ts';
import type { Reporter } from './reporter.ts';

const statusOrder = { error: 0, fail: 1, warn: 2, pass: 3, 'not-applicable': 4 } as const;
const severityOrder = { critical: 0, high: 1, medium: 2, low: 3, info: 4 } as const;

function paintStatus(result: AuditResult, color: boolean): string {
  const text = result.waived ? 'WAIVED' : result.status.toUpperCase();
  if (!color) return text;
  if (result.waived) return pc.dim(text);
  return result.status === 'fail' || result.status === 'error' ? pc.red(text) : result.status === 'warn' ? pc.yellow(text) : pc.green(text);
}

function where(evidence: AuditResult['evidence'][number]): string {
  if (!evidence.location) return '';
  return ` (${evidence.location.path}${evidence.location.line ? `:${evidence.location.line}` : ''})`;
}

export const auditTableReporter: Reporter<AuditReport> = {
  render(report, { color }) {
    const out: string[] = [];
    const shown = report.results
      .filter((result) => result.status === 'fail' || result.status === 'warn' || result.status === 'error' || result.waived)
      .sort((a, b) => (a.entity.name < b.entity.name ? -1 : a.entity.name > b.entity.name ? 1 : statusOrder[a.status] - statusOrder[b.status] || severityOrder[a.severity] - severityOrder[b.severity]));
    let entity: string | undefined;
    let table: InstanceType<typeof Table> | undefined;
    const flush = () => {
      if (table) out.push(table.toString());
      table = undefined;
    };
    for (const result of shown) {
      if (result.entity.name !== entity) {
        flush();
        entity = result.entity.name;
        out.push(`${color ? pc.bold(`${result.entity.kind} ${entity}`) : `${result.entity.kind} ${entity}`}`);
        table = new Table({ head: ['status', 'severity', 'check', 'evidence / fix'], colWidths: [9, 10, 44, 80], wordWrap: true, style: color ? { head: ['bold'] } : { head: [], border: [] } });
      }
      const lines = [
        ...result.evidence.map((evidence) => `• ${evidence.summary}${where(evidence)}`),
        ...(result.waived ? [`waived: ${result.waived.reason}${result.waived.expires ? ` (until ${result.waived.expires})` : ''}`] : []),
        ...(result.waiverExpired ? [`waiver expired ${result.waiverExpired.expires}: ${result.waiverExpired.reason}`] : []),
        ...(result.remediation && !result.waived ? [`fix: ${result.remediation}`] : []),
      ];
      table?.push([paintStatus(result, color), result.severity, `${result.checkId}\n${result.title}`, lines.join('\n')]);
    }
    flush();
    const s = report.summary;
    out.push(`${report.results.length} results from ${report.checks} checks: ${s.pass} pass, ${s.fail} fail, ${s.warn} warn, ${s.error} error, ${s.notApplicable} not applicable, ${s.waived} waived`);
    out.push(`score ${s.score}/100`);
    if (report.skipped.length > 0) out.push(`${report.skipped.length} objects skipped (${report.skipped.slice(0, 3).map((skip) => skip.reason).join('; ')}${report.skipped.length > 3 ? '; …' : ''})`);
    return `${out.join('\n')}\n`;
  },
};
