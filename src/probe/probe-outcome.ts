/**
 * Probe outcome: how a report gates a pipeline, as `nomine scan` does. 1 when a failing check reaches --fail-on;
 * else 2 when a target was malformed or an endpoint could not be judged (hung, garbage, DNS failure); else 0.
 * A closed port is an answer, not an error.
 */
import { isAtLeast, type Severity } from '../core/severity.ts';
import { probeChecks } from './probe-checks.ts';
import type { ProbeReport } from './probe-report.ts';

export type ProbeOutcome = 'clean' | 'findings' | 'error';

export function probeOutcome(report: ProbeReport, failOn: Severity): ProbeOutcome {
  const failing = report.endpoints.some((endpoint) => endpoint.outcomes.some((outcome) => outcome.status === 'fail' && isAtLeast(probeChecks[outcome.checkId].severity, failOn)));
  if (failing) return 'findings';
  if (report.invalidTargets.length > 0 || report.endpoints.some((endpoint) => endpoint.status === 'error' || endpoint.status === 'skipped')) return 'error';
  return 'clean';
}
