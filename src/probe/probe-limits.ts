/**
 * Probe limits: every bound `nomine probe` keeps, named in one place so a reader finds them together and the CLI
 * can override each one. Probing is aimed at the user's own endpoints, but it must stay polite and finite even when
 * an endpoint hangs, loops or floods us.
 */
export interface ProbeLimits {
  /** Endpoints probed at once. */
  concurrency: number;
  /** Requests started per second across the whole run (a token bucket); a polite ceiling for shared networks. */
  requestsPerSecond: number;
  /** Milliseconds one connection or request (connect, TLS handshake, headers, idle body) may take. */
  requestTimeoutMs: number;
  /** Milliseconds the whole run may take; endpoints not finished by then are reported as not probed. */
  deadlineMs: number;
  /** Bytes of one answer read; the rest is dropped and the answer marked truncated. */
  maxBodyBytes: number;
  /** Redirects followed for one request (same origin only); more is reported as a loop. */
  maxRedirects: number;
  /** Smallest CIDR prefix accepted (IPv4): /16 is 65,536 addresses. */
  minCidrPrefix: number;
  /** Endpoints (address × port) one run may expand to. */
  maxEndpoints: number;
}

// 64 endpoints at once and 400 requests/s across the run: 1,000 endpoints (a fifth of them hanging until the 5 s
// timeout) finish in ~27 s here (npm run bench:probe), while any one endpoint still sees a handful of requests.
export const defaultProbeLimits: ProbeLimits = {
  concurrency: 64,
  requestsPerSecond: 400,
  requestTimeoutMs: 5_000,
  deadlineMs: 10 * 60_000,
  maxBodyBytes: 1024 * 1024,
  maxRedirects: 5,
  minCidrPrefix: 16,
  maxEndpoints: 200_000,
};
