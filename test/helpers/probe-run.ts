/** Running probes in-process for tests: the shipped probes and credentials, short timeouts, and lookups by endpoint. */
import { loadProbeCredentials } from '../../src/probe/probe-credentials.ts';
import { defaultProbeLimits, type ProbeLimits } from '../../src/probe/probe-limits.ts';
import type { Lookup } from '../../src/probe/probe-endpoint.ts';
import type { CheckOutcome, EndpointReport, ProbeReport } from '../../src/probe/probe-report.ts';
import type { ProbeCheckId } from '../../src/probe/probe-checks.ts';
import { probes } from '../../src/probe/probes/index.ts';
import { runProbe } from '../../src/probe/run-probe.ts';

export const testLimits: ProbeLimits = { ...defaultProbeLimits, requestTimeoutMs: 1_500, deadlineMs: 60_000, maxBodyBytes: 256 * 1024 };

export async function probeTargets(targets: string[], options: { limits?: Partial<ProbeLimits>; now?: () => number; lookup?: Lookup } = {}): Promise<ProbeReport> {
  return runProbe({
    targets,
    probes: Object.values(probes),
    credentials: await loadProbeCredentials(),
    limits: { ...testLimits, ...options.limits },
    tool: { name: 'nomine', version: 'test' },
    ...(options.now ? { now: options.now } : {}),
    ...(options.lookup ? { lookup: options.lookup } : {}),
  });
}

export function endpointOf(report: ProbeReport, name: string): EndpointReport {
  const found = report.endpoints.find((endpoint) => endpoint.endpoint === name);
  if (!found) throw new Error(`no endpoint ${name} in report: ${JSON.stringify(report.endpoints.map((e) => e.endpoint))}`);
  return found;
}

export function outcomeOf(report: ProbeReport, name: string, checkId: ProbeCheckId): CheckOutcome {
  const endpoint = endpointOf(report, name);
  const found = endpoint.outcomes.find((outcome) => outcome.checkId === checkId);
  if (!found) throw new Error(`no ${checkId} outcome for ${name}: ${JSON.stringify(endpoint, null, 1).slice(0, 3000)}`);
  return found;
}
