/** JSON for `nomine probe --json`: the report as is, each outcome with its check's title, severity and fix. */
import { probeChecks } from '../probe/probe-checks.ts';
import type { ProbeReport } from '../probe/probe-report.ts';
import type { Reporter } from './reporter.ts';

export const probeJsonReporter: Reporter<ProbeReport> = {
  render(report) {
    const endpoints = report.endpoints.map((endpoint) => ({
      ...endpoint,
      outcomes: endpoint.outcomes.map((outcome) => ({ ...outcome, ...probeChecks[outcome.checkId] })),
    }));
    return `${JSON.stringify({ ...report, endpoints }, null, 2)}\n`;
  },
};
