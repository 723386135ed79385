/**
 * Probing one endpoint: resolve its name once, detect its transport, run every probe in order on the same
 * connection pool, and turn whatever happens (DNS failure, refusal, hang, garbage) into an EndpointReport. Nothing
 * thrown here escapes: one bad endpoint never stops the run.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { NomineError, toNomineError } from '../core/errors.ts';
import { detectTransport } from './detect-transport.ts';
import type { ProbeContext, Probe } from './probe.ts';
import type { ProbeCredentials } from './probe-credentials.ts';
import type { ProbeLimits } from './probe-limits.ts';
import type { EndpointReport } from './probe-report.ts';
import type { RateLimiter } from './rate-limiter.ts';
import type { EndpointSpec } from './targets.ts';

/** Resolves a host name to one address; injectable so tests exercise DNS failures without a DNS server. */
export type Lookup = (hostname: string) => Promise<string>;

export const systemLookup: Lookup = async (hostname) => (await dnsLookup(hostname)).address;

export interface EndpointRun {
  probes: readonly Probe[];
  credentials: ProbeCredentials;
  limits: ProbeLimits;
  limiter: RateLimiter;
  lookup: Lookup;
  signal: AbortSignal;
  now: () => number;
}

export async function probeEndpoint(spec: EndpointSpec, run: EndpointRun): Promise<EndpointReport> {
  const report: EndpointReport = { target: spec.input, endpoint: spec.name, status: 'open', services: [], outcomes: [], problems: [] };
  const fail = (status: 'closed' | 'error', probe: string, error: NomineError): EndpointReport => {
    report.status = status;
    report.problems.push({ probe, code: error.code, message: error.message });
    return report;
  };

  let address = spec.hostname;
  if (isIP(spec.hostname) === 0) {
    try {
      address = await run.lookup(spec.hostname);
    } catch (error) {
      const code = (error as { code?: string }).code ?? '';
      return fail('error', 'dns', new NomineError('unreachable', `cannot resolve ${spec.hostname} (${code || (error as Error).message})`, `endpoint ${spec.name}`));
    }
  }
  report.address = address;
  const endpoint = { ...spec, address };

  const transport = await detectTransport(endpoint, run.limits, run.limiter, run.signal);
  if (!transport.ok) {
    // Nothing listening, or nothing reachable without a client certificate: an answer, not a problem.
    const closed = transport.error.code === 'unreachable' || transport.error.code === 'forbidden';
    const error = transport.attempts.length > 1 && !closed
      ? new NomineError(transport.error.code, `speaks neither HTTP nor TLS (${transport.attempts.join('; ')})`, transport.error.part)
      : transport.error;
    return fail(closed ? 'closed' : 'error', 'transport', error);
  }
  report.scheme = transport.http.scheme;
  const services = new Set<string>();
  try {
    for (const probe of run.probes) {
      const context: ProbeContext = {
        endpoint,
        http: transport.http,
        ...(transport.tls ? { tls: transport.tls } : {}),
        credentials: run.credentials,
        limits: run.limits,
        signal: run.signal,
        now: run.now(),
        services,
      };
      try {
        const found = await probe.run(context);
        for (const service of found.services) services.add(service);
        report.outcomes.push(...found.outcomes);
      } catch (error) {
        const failure = toNomineError(error, `endpoint ${spec.name}`);
        // The same hang or garbage would be reported by every later probe; say it once.
        if (!report.problems.some((problem) => problem.message === failure.message)) report.problems.push({ probe: probe.id, code: failure.code, message: failure.message });
      }
    }
  } finally {
    await transport.http.close();
  }
  report.services = [...services];
  // Connected, but every probe failed on transport (the endpoint hangs after the first answer, or floods us).
  if (services.size === 0 && report.outcomes.length === 0 && report.problems.some((problem) => problem.code === 'timeout' || problem.code === 'invalid-input')) {
    report.status = 'error';
  }
  return report;
}
