/**
 * Probe: the port every service check implements. A probe is handed one endpoint whose transport (HTTP or HTTPS)
 * is already known, recognises its service from documented answers, and returns check outcomes with evidence.
 * An endpoint that is not its service yields nothing. Probes only ask; they never change the endpoint, except the
 * registry push proof, which deletes the upload it opened.
 */
import type { CheckOutcome, ProbeEvidence } from './probe-report.ts';
import type { EndpointHttp, ProbeAnswer, ProbeRequest } from './probe-http.ts';
import { answerExcerpt } from './probe-http.ts';
import type { ProbeCredentials } from './probe-credentials.ts';
import type { ProbeLimits } from './probe-limits.ts';
import type { Endpoint } from './targets.ts';
import type { TlsFacts } from './tls-inspect.ts';

export interface ProbeContext {
  endpoint: Endpoint;
  http: EndpointHttp;
  /** Set when the endpoint speaks TLS. */
  tls?: TlsFacts;
  credentials: ProbeCredentials;
  limits: ProbeLimits;
  signal: AbortSignal;
  /** Wall-clock milliseconds, passed in so certificate dates are judged against a testable clock. */
  now: number;
  /** Services recognised by probes that ran before this one. */
  services: ReadonlySet<string>;
}

export interface ProbeFindings {
  services: string[];
  outcomes: CheckOutcome[];
}

export interface Probe {
  id: string;
  run(context: ProbeContext): Promise<ProbeFindings>;
}

export const nothingFound: ProbeFindings = { services: [], outcomes: [] };

/** Sends a request and records it as evidence in one step, so evidence always matches what was sent. */
export async function ask(context: ProbeContext, req: ProbeRequest): Promise<{ answer: ProbeAnswer; evidence: ProbeEvidence }> {
  const answer = await context.http.send(req);
  const shownHeaders = req.headers?.authorization ? ` (${req.headers.authorization.split(' ')[0]} credentials)` : '';
  return { answer, evidence: { request: `${req.method ?? 'GET'} ${new URL(req.path, context.http.origin).href}${shownHeaders}`, answer: answerExcerpt(answer) } };
}

/** True when `value` is an object with all the keys named (a documented JSON shape). */
export function hasKeys(value: unknown, ...keys: string[]): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && keys.every((key) => key in value);
}
