/**
 * Probe report: what one `nomine probe` run found, endpoint by endpoint. Each check outcome carries its evidence
 * (the request sent and the telling part of the answer); endpoints that could not be probed say why instead.
 */
import type { Severity } from '../core/severity.ts';
import type { ProbeCheckId } from './probe-checks.ts';
import type { Scheme } from './probe-http.ts';

export interface ProbeEvidence {
  /** `GET http://127.0.0.1:2375/version` */
  request: string;
  /** Status and the telling excerpt of the answer. */
  answer: string;
}

export interface CheckOutcome {
  checkId: ProbeCheckId;
  status: 'pass' | 'fail';
  evidence: ProbeEvidence[];
  /** One line saying what was seen: `anonymous push accepted to nomine-probe-…`. */
  detail: string;
}

export type EndpointStatus = 'open' | 'closed' | 'error' | 'skipped';

export interface EndpointReport {
  target: string;
  /** `HOST:PORT` */
  endpoint: string;
  address?: string;
  status: EndpointStatus;
  scheme?: Scheme;
  /** Services recognised: `docker-engine`, `registry`, `kube-apiserver`, … */
  services: string[];
  outcomes: CheckOutcome[];
  /** Why the endpoint (or one probe of it) could not be judged: timeouts, garbage, redirect loops, huge answers. */
  problems: { probe: string; code: string; message: string }[];
}

export interface FollowUp {
  /** Registry whose catalog is open. */
  registry: string;
  command: string;
  images: string[];
  /** Set when the images could not be listed. */
  error?: string;
  /** What `nomine scan` found in the registry's images, with `--scan-registries`. */
  scan?: FollowUpScan;
}

export interface FollowUpScan {
  images: number;
  /** Flagged files and image metadata, one line each: `docker://…:tag /usr/bin/x malicious critical`. */
  findings: { image: string; what: string; verdict: string; severity: Severity }[];
  /** Images that could not be scanned in full, with why. */
  errors: string[];
}

export interface ProbeReport {
  tool: { name: string; version: string };
  startedAt: string;
  durationMs: number;
  endpoints: EndpointReport[];
  /** Targets refused before probing (malformed, too large a range). */
  invalidTargets: { target: string; message: string }[];
  followUps: FollowUp[];
  summary: { endpoints: number; open: number; closed: number; error: number; skipped: number; fail: number; pass: number };
}

export function summarise(endpoints: EndpointReport[]): ProbeReport['summary'] {
  const summary = { endpoints: endpoints.length, open: 0, closed: 0, error: 0, skipped: 0, fail: 0, pass: 0 };
  for (const endpoint of endpoints) {
    summary[endpoint.status]++;
    for (const outcome of endpoint.outcomes) summary[outcome.status]++;
  }
  return summary;
}
