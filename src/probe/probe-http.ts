/**
 * Probe HTTP: requests to one endpoint with every bound applied — a deadline per request covering connect, headers
 * and the whole body (a server dripping one byte at a time cannot hold us), a byte cap on answers (the rest is
 * dropped and the answer marked truncated), same-origin redirects up to a bound, and the shared rate limit.
 * Certificates are not verified here: the TLS probe reports on them separately, and a self-signed endpoint must
 * still be probed. Failures that mean the endpoint is gone or hostile (refused, hung, not HTTP) are remembered, so
 * later probes of the same endpoint fail at once instead of waiting again.
 */
import { Agent, request, type Dispatcher } from 'undici';
import { NomineError } from '../core/errors.ts';
import type { Endpoint } from './targets.ts';
import type { ProbeLimits } from './probe-limits.ts';
import type { RateLimiter } from './rate-limiter.ts';

export type Scheme = 'http' | 'https';

export interface ProbeRequest {
  method?: 'GET' | 'HEAD' | 'POST' | 'DELETE' | 'PUT';
  /** Path and query, or an absolute URL on the same origin (a Location header). */
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** Follow same-origin redirects (default true for GET). */
  followRedirects?: boolean;
}

export interface ProbeAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** The answer was longer than limits.maxBodyBytes; `body` holds its start. */
  truncated: boolean;
  url: string;
}

export interface EndpointHttp {
  readonly scheme: Scheme;
  readonly origin: string;
  send(req: ProbeRequest): Promise<ProbeAnswer>;
  close(): Promise<void>;
}

/** Codes after which nothing more is worth asking of this endpoint. */
const fatalCodes = new Set(['timeout', 'unreachable', 'invalid-input']);

export function headerText(headers: ProbeAnswer['headers'], name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(', ') : value;
}

export function endpointOrigin(endpoint: Endpoint, scheme: Scheme): string {
  const host = endpoint.address.includes(':') ? `[${endpoint.address}]` : endpoint.address;
  return `${scheme}://${host}:${endpoint.port}`;
}

/** Turns an undici or socket failure into a NomineError a person can act on. */
export function describeNetworkError(error: unknown, part: string, timeoutMs: number): NomineError {
  if (error instanceof NomineError) return error;
  const code = String((error as { code?: unknown } | null)?.code ?? '');
  const name = (error as { name?: string } | null)?.name ?? '';
  const message = error instanceof Error ? error.message : String(error);
  if (name === 'TimeoutError' || name === 'AbortError' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'ABORT_ERR') {
    return new NomineError('timeout', `connected, but no complete answer within ${timeoutMs} ms (the endpoint hangs)`, part, { cause: error });
  }
  if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'ETIMEDOUT') return new NomineError('unreachable', `no connection within ${timeoutMs} ms (filtered or down)`, part, { cause: error });
  if (code === 'ECONNREFUSED') return new NomineError('unreachable', 'connection refused (nothing listens on this port)', part, { cause: error });
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return new NomineError('unreachable', `host unreachable (${code})`, part, { cause: error });
  if (code.startsWith('HPE_') || /parse|invalid http|expected http/i.test(message)) {
    return new NomineError('invalid-input', `the endpoint answered with something other than HTTP (${code || message})`, part, { cause: error });
  }
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE' || code === 'UND_ERR_CLOSED') {
    return new NomineError('invalid-input', `the endpoint closed the connection without an HTTP answer (${code})`, part, { cause: error });
  }
  if (/SSL|TLS|CERT/i.test(code) || /SSL|TLS/.test(message)) return new NomineError('invalid-input', `TLS failed: ${code} ${message}`, part, { cause: error });
  return new NomineError('invalid-input', `request failed: ${code} ${message}`.trim(), part, { cause: error });
}

export function createEndpointHttp(endpoint: Endpoint, scheme: Scheme, limits: ProbeLimits, limiter: RateLimiter, signal: AbortSignal): EndpointHttp {
  const origin = endpointOrigin(endpoint, scheme);
  const part = `endpoint ${endpoint.name}`;
  const dispatcher: Dispatcher = new Agent({
    headersTimeout: limits.requestTimeoutMs,
    bodyTimeout: limits.requestTimeoutMs,
    // One connection per endpoint and no lingering keep-alive: file descriptors stay bounded by concurrency.
    connections: 1,
    keepAliveTimeout: 1_000,
    connect: {
      timeout: limits.requestTimeoutMs,
      rejectUnauthorized: false,
      ...(endpoint.hostname !== endpoint.address ? { servername: endpoint.hostname } : {}),
    },
  });
  const memo = new Map<string, Promise<ProbeAnswer>>();
  let fatal: NomineError | undefined;

  async function sendOnce(req: ProbeRequest): Promise<ProbeAnswer> {
    if (fatal) throw fatal;
    let url = new URL(req.path, origin);
    const method = req.method ?? 'GET';
    const follow = req.followRedirects ?? method === 'GET';
    for (let hop = 0; ; hop++) {
      if (url.origin !== new URL(origin).origin) {
        throw new NomineError('invalid-input', `redirected to another origin (${url.origin}); not followed`, part);
      }
      await limiter.take(signal);
      const deadline = AbortSignal.any([signal, AbortSignal.timeout(limits.requestTimeoutMs)]);
      try {
        const response = await request(url, {
          dispatcher,
          method,
          headers: { 'user-agent': 'nomine-probe', host: hostHeader(endpoint), ...req.headers },
          ...(req.body !== undefined ? { body: req.body } : {}),
          signal: deadline,
        });
        const location = headerText(response.headers, 'location');
        if (follow && [301, 302, 303, 307, 308].includes(response.statusCode) && location) {
          response.body.on('error', () => undefined).destroy();
          if (hop >= limits.maxRedirects) {
            throw new NomineError('invalid-input', `more than ${limits.maxRedirects} redirects (last to ${location}): a redirect loop`, part);
          }
          url = new URL(location, url);
          continue;
        }
        const { body, truncated } = await readBounded(response.body, limits.maxBodyBytes);
        return { status: response.statusCode, headers: response.headers, body, truncated, url: url.href };
      } catch (error) {
        if (signal.aborted) throw new NomineError('timeout', 'the run deadline passed before this endpoint was finished', part, { cause: error });
        const failure = describeNetworkError(error, part, limits.requestTimeoutMs);
        if (fatalCodes.has(failure.code) && !/redirect|another origin/.test(failure.message)) fatal = failure;
        throw failure;
      }
    }
  }

  return {
    scheme,
    origin,
    send(req) {
      // Plain GETs are asked once per endpoint: several probes read /version or / and must not hit it again.
      if ((req.method ?? 'GET') !== 'GET' || req.headers || req.body !== undefined) return sendOnce(req);
      const known = memo.get(req.path);
      if (known) return known;
      const pending = sendOnce(req);
      memo.set(req.path, pending);
      return pending;
    },
    async close() {
      await dispatcher.destroy().catch(() => undefined);
    },
  };
}

function hostHeader(endpoint: Endpoint): string {
  const host = endpoint.hostname.includes(':') ? `[${endpoint.hostname}]` : endpoint.hostname;
  return `${host}:${endpoint.port}`;
}

/** Reads at most `max` bytes; a longer body is cut off and its connection dropped (undici closes it on destroy). */
async function readBounded(body: Dispatcher.ResponseData['body'], max: number): Promise<{ body: Buffer; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    const room = max - size;
    if (chunk.length > room) {
      chunks.push(chunk.subarray(0, room));
      size += room;
      body.on('error', () => undefined).destroy();
      return { body: Buffer.concat(chunks, size), truncated: true };
    }
    chunks.push(chunk);
    size += chunk.length;
  }
  return { body: Buffer.concat(chunks, size), truncated: false };
}

/** First bytes of an answer as one printable line, for evidence. */
export function answerExcerpt(answer: ProbeAnswer, max = 160): string {
  const text = answer.body.subarray(0, max * 2).toString('utf8').replace(/[^\x20-\x7e]+/g, ' ').replace(/\s+/g, ' ').trim();
  return `${answer.status}${text ? ` ${text.length > max ? `${text.slice(0, max)}…` : text}` : ''}${answer.truncated ? ' (truncated)' : ''}`;
}

/** Parses a JSON answer; undefined for anything else (garbage, HTML, a truncated body). */
export function answerJson(answer: ProbeAnswer): unknown {
  if (answer.truncated) return undefined;
  try {
    return JSON.parse(answer.body.toString('utf8'));
  } catch {
    return undefined;
  }
}
