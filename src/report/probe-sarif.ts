/**
 * SARIF 2.1.0 for `nomine probe --format sarif`: one rule per check, one result per failing check and endpoint
 * (the endpoint as a logical location, since there is no file), and one per endpoint that could not be judged.
 */
import type { Severity } from '../core/severity.ts';
import { probeChecks } from '../probe/probe-checks.ts';
import type { ProbeReport } from '../probe/probe-report.ts';
import type { Reporter } from './reporter.ts';

const securitySeverity: Record<Severity, string> = { critical: '9.5', high: '8.0', medium: '5.5', low: '3.0', info: '0.0' };

function level(severity: Severity): 'error' | 'warning' | 'note' {
  return severity === 'critical' || severity === 'high' ? 'error' : severity === 'medium' ? 'warning' : 'note';
}

export const probeSarifReporter: Reporter<ProbeReport> = {
  render(report) {
    const rules = new Map<string, object>();
    const results: object[] = [];
    const location = (name: string) => [{ logicalLocations: [{ name, kind: 'endpoint' }] }];
    for (const endpoint of report.endpoints) {
      for (const outcome of endpoint.outcomes) {
        if (outcome.status !== 'fail') continue;
        const check = probeChecks[outcome.checkId];
        if (!rules.has(outcome.checkId)) {
          rules.set(outcome.checkId, { id: outcome.checkId, shortDescription: { text: check.title }, help: { text: check.remediation }, properties: { 'security-severity': securitySeverity[check.severity], tags: ['security', 'probe'] } });
        }
        results.push({
          ruleId: outcome.checkId,
          level: level(check.severity),
          message: { text: `${check.title}: ${endpoint.endpoint} — ${outcome.detail}` },
          locations: location(endpoint.endpoint),
          properties: { severity: check.severity, evidence: outcome.evidence, 'security-severity': securitySeverity[check.severity] },
        });
      }
      if (endpoint.status === 'error' || endpoint.status === 'skipped') {
        rules.set('probe.endpoint-error', { id: 'probe.endpoint-error', shortDescription: { text: 'Endpoint could not be probed' } });
        results.push({ ruleId: 'probe.endpoint-error', level: 'error', kind: 'fail', message: { text: `${endpoint.endpoint}: ${endpoint.problems.map((problem) => problem.message).join('; ')}` }, locations: location(endpoint.endpoint) });
      }
    }
    const sarif = {
      $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
      version: '2.1.0',
      runs: [{
        tool: { driver: { name: 'nomine', version: report.tool.version, informationUri: 'https://github.com/nomine/nomine', rules: [...rules.values()] } },
        invocations: [{ executionSuccessful: report.invalidTargets.length === 0 && !report.endpoints.some((endpoint) => endpoint.status === 'error') }],
        results,
        properties: { summary: report.summary, invalidTargets: report.invalidTargets },
      }],
    };
    return `${JSON.stringify(sarif, null, 2)}\n`;
  },
};
