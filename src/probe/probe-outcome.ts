/**
 * Probe outcome: how a report gates a pipeline, as `nomine scan` does. 1 when a failing check (or, with
 * --scan-registries, a finding in a registry's images) reaches --fail-on;
 * else 2 when a target was malformed or an endpoint could not be judged (hung, garbage, DNS failure); else 0.
 * A closed port is an answer, not an error.
 */
import { isAtLeast, type Severity } from '../core/severity.ts';
import { probeChecks } from './probe-checks.ts';
import type { ProbeReport } from './probe-report.ts';

export type ProbeOutcome = 'clean' | 'findings' | 'error';

export function probeOutcome(report: ProbeReport, failOn: Severity): ProbeOutcome {
  const failing = report.endpoints.some((endpoint) => endpoint.outcomes.some((outcome) => outcome.status === 'fail' && isAtLeast(probeChecks[outcome.checkId].severity, failOn)));
  const minersInRegistries = report.followUps.some((followUp) => followUp.scan?.findings.some((finding) => isAtLeast(finding.severity, failOn)));
  if (failing || minersInRegistries) return 'findings';
  if (report.followUps.some((followUp) => (followUp.scan?.errors.length ?? 0) > 0)) return 'error';
  if (report.invalidTargets.length > 0 || report.endpoints.some((endpoint) => endpoint.status === 'error' || endpoint.status === 'skipped')) return 'error';
  return 'clean';
}
