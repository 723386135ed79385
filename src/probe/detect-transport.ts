/**
 * Transport detection: does this endpoint speak plain HTTP or HTTPS? We try the likelier one first (TLS on ports
 * where TLS is the norm, plain HTTP elsewhere) and the other only when the first is refused in a way that suggests
 * the other (a TLS alert, an HTTP 400 "sent HTTP to an HTTPS server"). A connection that hangs is not retried:
 * one timeout per hostile endpoint is enough.
 */
import type { NomineError } from '../core/errors.ts';
import { createEndpointHttp, type EndpointHttp, type Scheme } from './probe-http.ts';
import type { ProbeLimits } from './probe-limits.ts';
import type { RateLimiter } from './rate-limiter.ts';
import type { Endpoint } from './targets.ts';
import { inspectTls, type TlsFacts } from './tls-inspect.ts';

/** Ports whose services are normally TLS: try a handshake first there. */
export const tlsFirstPorts: ReadonlySet<number> = new Set([443, 2376, 6443, 8443, 9443, 10250]);

export type Transport = { ok: true; http: EndpointHttp; tls?: TlsFacts } | { ok: false; error: NomineError; attempts: string[] };

export async function detectTransport(endpoint: Endpoint, limits: ProbeLimits, limiter: RateLimiter, signal: AbortSignal): Promise<Transport> {
  const order: Scheme[] = endpoint.scheme ? [endpoint.scheme] : tlsFirstPorts.has(endpoint.port) ? ['https', 'http'] : ['http', 'https'];
  const attempts: string[] = [];
  let last: NomineError | undefined;
  for (const scheme of order) {
    if (scheme === 'https') {
      await limiter.take(signal);
      const handshake = await inspectTls(endpoint, limits.requestTimeoutMs, signal);
      if (handshake.ok) return { ok: true, http: createEndpointHttp(endpoint, 'https', limits, limiter, signal), tls: handshake.facts };
      last = handshake.error;
      attempts.push(`TLS: ${handshake.error.message}`);
    } else {
      const http = createEndpointHttp(endpoint, 'http', limits, limiter, signal);
      try {
        const root = await http.send({ path: '/' });
        const text = root.body.subarray(0, 512).toString('utf8');
        // Go and nginx answer plain HTTP on a TLS port with a 400 that says so; the endpoint is really HTTPS.
        const saysHttps = root.status === 400 && /https|tls|ssl/i.test(text);
        if (!saysHttps || order.length === 1) return { ok: true, http };
        attempts.push(`HTTP: 400 "${text.slice(0, 80).trim()}"`);
        await http.close();
      } catch (error) {
        // A redirect loop is still an HTTP answer: the endpoint speaks HTTP, its probes will report the loop.
        if (/redirect/.test((error as NomineError).message)) return { ok: true, http };
        await http.close();
        last = error as NomineError;
        attempts.push(`HTTP: ${last.message}`);
      }
    }
    // Refused, unreachable or hung: the other scheme would meet the same fate.
    if (last && (last.code === 'unreachable' || last.code === 'timeout')) return { ok: false, error: last, attempts };
  }
  return { ok: false, error: (last ?? { code: 'invalid-input', message: 'no answer' }) as NomineError, attempts };
}
