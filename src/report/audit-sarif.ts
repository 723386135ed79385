/**
 * SARIF 2.1.0 for `nomine audit --format sarif`: one rule per check (with its rationale, fix and benchmark
 * references), one result per failing, warning or erroring check and entity. File evidence becomes a physical
 * location with a line; containers and images become logical locations. Waived results carry a suppression.
 */
import type { Severity } from '../core/severity.ts';
import type { AuditReport, AuditResult } from '../audit/audit-report.ts';
import type { Reporter } from './reporter.ts';

const securitySeverity: Record<Severity, string> = { critical: '9.5', high: '8.0', medium: '5.5', low: '3.0', info: '0.0' };

function level(result: AuditResult): 'error' | 'warning' | 'note' {
  if (result.status === 'error') return 'error';
  if (result.status === 'warn' || result.severity === 'low' || result.severity === 'info') return 'note';
  return result.severity === 'medium' ? 'warning' : 'error';
}

export const auditSarifReporter: Reporter<AuditReport> = {
  render(report) {
    const rules = new Map<string, object>();
    const results: object[] = [];
    for (const result of report.results) {
      if (result.status === 'pass' || result.status === 'not-applicable') continue;
      if (!rules.has(result.checkId)) {
        rules.set(result.checkId, {
          id: result.checkId,
          shortDescription: { text: result.title },
          ...(result.remediation ? { help: { text: result.remediation } } : {}),
          properties: { 'security-severity': securitySeverity[result.severity], tags: ['security', ...result.references] },
        });
      }
      const file = result.evidence.find((evidence) => evidence.location)?.location;
      results.push({
        ruleId: result.checkId,
        level: level(result),
        message: { text: `${result.title}: ${result.entity.kind} ${result.entity.name}${result.evidence.length ? ` — ${result.evidence.map((evidence) => evidence.summary).join('; ')}` : ''}` },
        locations: [
          {
            ...(file && !file.path.startsWith('/proc/') ? { physicalLocation: { artifactLocation: { uri: file.path }, ...(file.line ? { region: { startLine: file.line } } : {}) } } : {}),
            logicalLocations: [{ name: result.entity.name, kind: result.entity.kind }],
          },
        ],
        ...(result.waived ? { suppressions: [{ kind: 'external', justification: result.waived.reason }] } : {}),
        properties: { status: result.status, severity: result.severity, references: result.references, 'security-severity': securitySeverity[result.severity] },
      });
    }
    const sarif = {
      $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
      version: '2.1.0',
      runs: [
        {
          tool: { driver: { name: 'nomine', version: report.tool.version, informationUri: 'https://github.com/nomine/nomine', rules: [...rules.values()] } },
          invocations: [{ executionSuccessful: report.summary.error === 0 }],
          results,
          properties: { summary: report.summary },
        },
      ],
    };
    return `${JSON.stringify(sarif, null, 2)}\n`;
  },
};
