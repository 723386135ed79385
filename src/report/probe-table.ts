/**
 * The terminal table for `nomine probe`: per endpoint, failures first with their evidence and fix, then passes in
 * one line each; endpoints that could not be judged say why. Closed ports of swept ranges are only counted.
 */
import Table from 'cli-table3';
import pc from 'picocolors';
import { probeChecks } from '../probe/probe-checks.ts';
import type { CheckOutcome, ProbeReport } from '../probe/probe-report.ts';
import type { Reporter } from './reporter.ts';

const severityOrder = { critical: 0, high: 1, medium: 2, low: 3, info: 4 } as const;

function order(a: CheckOutcome, b: CheckOutcome): number {
  if (a.status !== b.status) return a.status === 'fail' ? -1 : 1;
  return severityOrder[probeChecks[a.checkId].severity] - severityOrder[probeChecks[b.checkId].severity];
}

export const probeTableReporter: Reporter<ProbeReport> = {
  render(report, { color }) {
    const out: string[] = [];
    const paint = (text: string, status: string) => (!color ? text : status === 'fail' || status === 'error' ? pc.red(text) : status === 'pass' ? pc.green(text) : pc.yellow(text));
    for (const invalid of report.invalidTargets) out.push(`${paint('INVALID', 'error')} target ${invalid.target}: ${invalid.message}`);
    for (const endpoint of report.endpoints) {
      const head = `${endpoint.endpoint}${endpoint.scheme ? ` (${endpoint.scheme})` : ''}${endpoint.target !== endpoint.endpoint ? ` from ${endpoint.target}` : ''}: ${endpoint.status}${endpoint.services.length ? ` — ${endpoint.services.join(', ')}` : ''}`;
      out.push(color ? pc.bold(head) : head);
      for (const problem of endpoint.problems) out.push(`  ${paint(endpoint.status === 'open' ? 'NOTE' : endpoint.status.toUpperCase(), endpoint.status === 'open' ? 'warn' : 'error')} ${problem.probe}: ${problem.message}`);
      if (endpoint.outcomes.length === 0) continue;
      const table = new Table({ head: ['status', 'severity', 'check', 'evidence / fix'], colWidths: [8, 10, 40, 90], wordWrap: true, style: color ? { head: ['bold'] } : { head: [], border: [] } });
      for (const outcome of [...endpoint.outcomes].sort(order)) {
        const check = probeChecks[outcome.checkId];
        const lines = [outcome.detail, ...(outcome.status === 'fail' ? outcome.evidence.map((evidence) => `• ${evidence.request} → ${evidence.answer}`) : []), ...(outcome.status === 'fail' ? [`fix: ${check.remediation}`] : [])];
        table.push([paint(outcome.status.toUpperCase(), outcome.status), check.severity, `${outcome.checkId}\n${check.title}`, lines.join('\n')]);
      }
      out.push(table.toString());
    }
    for (const followUp of report.followUps) {
      if (followUp.scan) {
        const { scan } = followUp;
        out.push(`open registry ${followUp.registry}: scanned ${scan.images} images, ${scan.findings.length} findings${scan.errors.length ? `, ${scan.errors.length} could not be scanned` : ''}`);
        for (const finding of scan.findings) out.push(`  ${finding.severity.toUpperCase()} ${finding.verdict} ${finding.image} ${finding.what}`);
        for (const error of scan.errors) out.push(`  error: ${error}`);
      } else {
        out.push(`open registry ${followUp.registry}: ${followUp.error ? `listing failed: ${followUp.error}` : `${followUp.images.length} images`}; scan them with: ${followUp.command}`);
      }
    }
    const s = report.summary;
    out.push(`${s.endpoints} endpoints: ${s.open} open, ${s.closed} closed, ${s.error} error, ${s.skipped} skipped; ${s.fail} failing checks, ${s.pass} passing; ${report.invalidTargets.length} invalid targets (${report.durationMs} ms)`);
    return `${out.join('\n')}\n`;
  },
};
