/**
 * Registry HTTP: one request to a registry with nomine's bounds applied — a deadline for the headers, an idle
 * deadline between body chunks (both undici's own timers), a bounded number of redirects that never carry the
 * registry's credentials to another origin, bounded reads of bodies, and every failure turned into a NomineError
 * naming the part at fault.
 */
import { readBounded } from '../../platform/read-bounded.ts';
import type { Readable } from 'node:stream';
import type { Agent, Dispatcher } from 'undici';
import { NomineError, type ErrorCode } from '../../core/errors.ts';
import { lazyRequire } from '../../platform/lazy-require.ts';
import type { Limits } from '../../platform/limits.ts';

const undici = lazyRequire<typeof import('undici')>('undici');

export interface RegistryResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Readable;
  /** Where the answer came from after redirects. */
  url: URL;
}

export interface RegistryRequest {
  url: URL;
  method?: 'GET' | 'HEAD';
  headers?: Record<string, string>;
  /** Sent only to the origin of `url`; dropped when a redirect leaves it (blob storage must not see them). */
  authorization?: string;
  /** What an error names: `registry 127.0.0.1:5000`, `manifest app:1`, `blob sha256:…`. */
  part: string;
}

/** Redirects followed at most: registries send one (to blob storage); more than a few is a loop. */
export const maxRedirects = 5;
/** Bytes of an error response read for its message. */
const maxErrorBodyBytes = 64 * 1024;

/** A dispatcher with nomine's timeouts; one per opened image or listing, closed with it. */
export function createRegistryDispatcher(limits: Limits): Agent {
  return new (undici().Agent)({
    headersTimeout: limits.httpTimeoutMs,
    bodyTimeout: limits.httpIdleTimeoutMs,
    connect: { timeout: limits.httpTimeoutMs },
  });
}

const networkCodes: Record<string, ErrorCode> = {
  UND_ERR_HEADERS_TIMEOUT: 'timeout',
  UND_ERR_BODY_TIMEOUT: 'timeout',
  UND_ERR_CONNECT_TIMEOUT: 'timeout',
  ETIMEDOUT: 'timeout',
  ECONNREFUSED: 'unreachable',
  ECONNRESET: 'unreachable',
  EHOSTUNREACH: 'unreachable',
  ENETUNREACH: 'unreachable',
  ENOTFOUND: 'unreachable',
  EAI_AGAIN: 'unreachable',
  EPIPE: 'unreachable',
  UND_ERR_SOCKET: 'unreachable',
  UND_ERR_CLOSED: 'unreachable',
};

/** Turns a transport failure (undici or system error) into a NomineError; abort reasons pass through untouched. */
export function toRegistryNetworkError(error: unknown, part: string, signal?: AbortSignal): unknown {
  if (error instanceof NomineError) return error;
  if (signal?.aborted) return signal.reason ?? error;
  const code = (error as { code?: string } | null)?.code ?? '';
  const message = error instanceof Error ? error.message : String(error);
  const mapped = networkCodes[code];
  if (mapped === 'timeout') return new NomineError('timeout', `no answer in time (${message})`, part, { cause: error });
  if (mapped) return new NomineError('unreachable', `cannot reach the registry: ${code} ${message}`, part, { cause: error });
  if (/CERT|SSL|TLS/i.test(code)) {
    return new NomineError('unreachable', `TLS failed: ${code} ${message} (plain-HTTP registries need the insecure option)`, part, { cause: error });
  }
  return new NomineError('unreachable', `request failed: ${message}`, part, { cause: error });
}

export function headerValue(headers: RegistryResponse['headers'], name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(', ') : value;
}

/**
 * Sends one request and follows redirects (at most `maxRedirects`). Returns any final status; callers decide what
 * a 401 or 404 means for them. Rejects with timeout / unreachable / invalid-input (redirect loop).
 */
export async function sendRegistryRequest(dispatcher: Dispatcher, req: RegistryRequest, signal?: AbortSignal): Promise<RegistryResponse> {
  let url = req.url;
  const origin = req.url.origin;
  for (let hop = 0; ; hop++) {
    const headers: Record<string, string> = { 'user-agent': 'nomine', ...req.headers };
    if (req.authorization && url.origin === origin) headers.authorization = req.authorization;
    let response: Dispatcher.ResponseData;
    try {
      response = await undici().request(url, { dispatcher, method: req.method ?? 'GET', headers, ...(signal ? { signal } : {}) });
    } catch (error) {
      throw toRegistryNetworkError(error, req.part, signal);
    }
    const location = headerValue(response.headers, 'location');
    if (![301, 302, 303, 307, 308].includes(response.statusCode) || !location) {
      return { status: response.statusCode, headers: response.headers, body: response.body, url };
    }
    discardBody(response.body);
    if (hop >= maxRedirects) {
      throw new NomineError('invalid-input', `more than ${maxRedirects} redirects (last to ${location}); the registry is misconfigured or looping`, req.part);
    }
    const next = new URL(location, url);
    if (next.protocol !== 'http:' && next.protocol !== 'https:') {
      throw new NomineError('invalid-input', `redirect to unsupported URL scheme ${next.protocol}`, req.part);
    }
    // Never downgrade an HTTPS registry to plain HTTP through a redirect.
    if (url.protocol === 'https:' && next.protocol === 'http:') {
      throw new NomineError('invalid-input', `refusing a redirect from HTTPS to plain HTTP (${next.origin})`, req.part);
    }
    url = next;
  }
}

/** Drops a body we will not read; undici reports the destroy as an error, which nobody is left to hear. */
export function discardBody(body: Readable): void {
  body.on('error', () => undefined);
  body.destroy();
}

/**
 * Reads a body into memory, failing with limit-exceeded past `maxBytes` (checked on Content-Length first, then
 * while reading, since a server may lie or omit it). Stream errors become NomineErrors naming `part`.
 */
export async function readBoundedBody(response: RegistryResponse, maxBytes: number, part: string, signal?: AbortSignal): Promise<Buffer> {
  const declared = Number(headerValue(response.headers, 'content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    discardBody(response.body);
    throw new NomineError('limit-exceeded', `the document declares ${declared} bytes, more than limits.maxJsonBytes (${maxBytes})`, part);
  }
  try {
    return await readBounded(response.body, maxBytes, () => {
      discardBody(response.body);
      return new NomineError('limit-exceeded', `the document is larger than limits.maxJsonBytes (${maxBytes} bytes)`, part);
    });
  } catch (error) {
    throw toRegistryNetworkError(error, part, signal);
  }
}

/** The `errors[0].message` (or code) a registry puts in an error body, read bounded; empty when absent. */
async function registryErrorDetail(response: RegistryResponse): Promise<{ code?: string; message: string }> {
  try {
    const bytes = await readBoundedBody(response, maxErrorBodyBytes, 'error body');
    const parsed = JSON.parse(bytes.toString('utf8')) as { errors?: { code?: unknown; message?: unknown }[] };
    const first = parsed.errors?.[0];
    const code = typeof first?.code === 'string' ? first.code : undefined;
    const message = typeof first?.message === 'string' ? first.message : '';
    return { ...(code ? { code } : {}), message };
  } catch {
    discardBody(response.body);
    return { message: '' };
  }
}

export interface StatusContext {
  part: string;
  /** What was asked for, for not-found messages: `tag 1 of repository app`. */
  subject: string;
  /** Whether credentials were sent, so an unauthorized message says which case it is. */
  hadCredentials: boolean;
  registry: string;
}

/** Maps a non-success status to the NomineError a user can act on; consumes the (bounded) body. */
export async function statusError(response: RegistryResponse, context: StatusContext): Promise<NomineError> {
  const detail = await registryErrorDetail(response);
  const said = detail.message ? ` (registry said: ${detail.code ? `${detail.code} ` : ''}${detail.message})` : '';
  const { status } = response;
  if (status === 401) {
    return new NomineError(
      'unauthorized',
      context.hadCredentials
        ? `the registry ${context.registry} rejected the credentials given for ${context.subject}${said}`
        : `the registry ${context.registry} requires credentials for ${context.subject} and none were given (set NOMINE_REGISTRY_USERNAME and NOMINE_REGISTRY_PASSWORD)${said}`,
      context.part,
    );
  }
  if (status === 403) return new NomineError('forbidden', `access to ${context.subject} is forbidden${said}`, context.part);
  if (status === 404) return new NomineError('not-found', `${context.subject} not found on ${context.registry}${said}`, context.part);
  if (status === 429) return new NomineError('unreachable', `the registry is rate-limiting requests (429)${said}`, context.part);
  if (status >= 500) return new NomineError('unreachable', `the registry answered ${status} for ${context.subject}${said}`, context.part);
  return new NomineError('invalid-input', `unexpected HTTP ${status} for ${context.subject}${said}`, context.part);
}
