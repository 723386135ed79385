/**
 * Report upload: after `nomine scan|audit|probe --server URL` has printed its report, the same JSON document (what
 * `--json` prints) goes to the console in the ingestion envelope, `POST {URL}/api/reports/{kind}`. One
 * Idempotency-Key per run, reused on every retry, so a retry after an answer lost on the way back stores nothing
 * twice. Transient failures (no connection, a timeout, 5xx, 429 with its Retry-After) are retried with backoff a
 * few times; any other refusal (401, 403, 413, 400…) fails at once with the server's own message. An upload
 * failure never changes what the tool printed: it is a NomineError naming the server, which the command turns
 * into one stderr line and exit code 2.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { backoffDelayMs, type BackoffPolicy } from '../alerts/backoff.ts';
import { parseRetryAfter } from '../alerts/outputs/webhook.ts';
import { NomineError, type ErrorCode } from '../core/errors.ts';
import { readBounded } from '../platform/read-bounded.ts';
import type { ReportKind } from '../server/schemas/report-schemas.ts';

/** Where a report goes and with what credential (see upload-options.ts for flags and environment). */
export interface UploadTarget {
  /** The console's base URL, without a trailing slash: `https://console.example:7480` or `…/nomine`. */
  server: string;
  /** An API token of role ingest or admin. Only ever sent as a header, never printed. */
  token: string;
  /** PEM of the CA(s) that issued the console's certificate, for a private CA. */
  ca?: string;
}

export interface UploadSettings {
  /** Tries in all, the first included. */
  maxAttempts: number;
  /** Milliseconds one try may take, connect to the end of the answer. */
  timeoutMs: number;
  backoff: BackoffPolicy;
  /** A Retry-After longer than this is not waited for: the upload fails and says what the server asked. */
  maxRetryAfterMs: number;
}

export const defaultUploadSettings: UploadSettings = {
  maxAttempts: 4,
  timeoutMs: 30_000,
  backoff: { baseMs: 1_000, maxMs: 10_000 },
  maxRetryAfterMs: 60_000,
};

/** Bytes of an answer read at most: a summary is a few hundred bytes; anything far larger is not the console. */
export const maxUploadAnswerBytes = 64 * 1024;
/** Characters of a non-JSON answer quoted in an error. */
const quotedAnswerChars = 200;

export interface UploadRequest {
  kind: ReportKind;
  tool: { name: string; version: string };
  /** ISO 8601. */
  generatedAt: string;
  /** The report exactly as `--json` prints it: a JSON object. */
  reportJson: string;
}

export interface UploadReceipt {
  id: string;
  /** The server had this key already: the first answer, nothing stored twice. */
  replayed: boolean;
  attempts: number;
  url: string;
}

export interface UploadDependencies {
  /** The run's Idempotency-Key; a fresh UUID by default. */
  idempotencyKey?: string;
  sleep?: (ms: number) => Promise<unknown>;
  random?: () => number;
  now?: () => number;
  /** Called before each wait, so a person sees why nothing happens for a while. */
  onRetry?: (retry: { attempt: number; reason: string; delayMs: number }) => void;
}

/**
 * The request body: the envelope with the report's JSON text spliced in as is, so the server stores exactly what
 * `--json` printed (no parse and re-serialise of a report that may be megabytes).
 */
export function envelopeBody(upload: UploadRequest): string {
  const head = JSON.stringify({ kind: upload.kind, tool: upload.tool, generatedAt: upload.generatedAt });
  return `${head.slice(0, -1)},"report":${upload.reportJson.trim()}}`;
}

export function reportUrl(server: string, kind: ReportKind): string {
  return `${server.replace(/\/+$/, '')}/api/reports/${kind}`;
}

type Attempt =
  | { kind: 'stored'; id: string; replayed: boolean }
  | { kind: 'retry'; reason: string; code: ErrorCode; retryAfterMs?: number }
  | { kind: 'refused'; reason: string; code: ErrorCode };

const codeOfStatus: Record<number, ErrorCode> = {
  400: 'invalid-input',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not-found',
  409: 'conflict',
  413: 'limit-exceeded',
  415: 'unsupported',
};

const hints: Record<number, string> = {
  401: ' (check the token in --token-file or NOMINE_TOKEN: it may be wrong, revoked or expired)',
  403: ' (the token needs the role ingest or admin)',
  404: ' (is --server the console\'s base URL?)',
  413: ' (the report is larger than the console accepts: raise its report size limit, or send fewer images per run)',
};

export async function uploadReport(target: UploadTarget, upload: UploadRequest, settings: UploadSettings = defaultUploadSettings, dependencies: UploadDependencies = {}): Promise<UploadReceipt> {
  const url = reportUrl(target.server, upload.kind);
  const body = envelopeBody(upload);
  const idempotencyKey = dependencies.idempotencyKey ?? randomUUID();
  const wait = dependencies.sleep ?? ((ms: number) => sleep(ms));
  const random = dependencies.random ?? Math.random;
  const now = dependencies.now ?? Date.now;
  const part = `server ${target.server}`;
  const agent = new Agent({
    connect: { timeout: settings.timeoutMs, ...(target.ca ? { ca: target.ca } : {}) },
    headersTimeout: settings.timeoutMs,
    bodyTimeout: settings.timeoutMs,
  });
  try {
    for (let attempt = 1; ; attempt += 1) {
      const outcome = await post(agent, url, body, target.token, idempotencyKey, settings.timeoutMs, now);
      if (outcome.kind === 'stored') return { id: outcome.id, replayed: outcome.replayed, attempts: attempt, url };
      if (outcome.kind === 'refused') throw new NomineError(outcome.code, `report not sent: ${outcome.reason}`, part);
      const tries = `${attempt} ${attempt === 1 ? 'try' : 'tries'}`;
      if (attempt >= settings.maxAttempts) throw new NomineError(outcome.code, `report not sent after ${tries}: ${outcome.reason}`, part);
      if (outcome.retryAfterMs !== undefined && outcome.retryAfterMs > settings.maxRetryAfterMs) {
        throw new NomineError(outcome.code, `report not sent after ${tries}: ${outcome.reason}; the server asked to retry after ${Math.ceil(outcome.retryAfterMs / 1000)} s, longer than the ${settings.maxRetryAfterMs / 1000} s nomine waits`, part);
      }
      const delayMs = outcome.retryAfterMs ?? backoffDelayMs(attempt, settings.backoff, random);
      dependencies.onRetry?.({ attempt, reason: outcome.reason, delayMs });
      await wait(delayMs);
    }
  } finally {
    await agent.close().catch(() => undefined);
  }
}

async function post(agent: Agent, url: string, body: string, token: string, idempotencyKey: string, timeoutMs: number, now: () => number): Promise<Attempt> {
  let answer;
  try {
    answer = await request(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'nomine-report-upload',
        authorization: `Bearer ${token}`,
        'idempotency-key': idempotencyKey,
      },
      body,
      dispatcher: agent,
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    return networkFailure(error, timeoutMs);
  }
  const status = answer.statusCode;
  let text: string;
  try {
    text = (await readBounded(answer.body, maxUploadAnswerBytes, () => new NomineError('limit-exceeded', `an answer larger than ${maxUploadAnswerBytes} bytes`))).toString('utf8');
  } catch (error) {
    if (error instanceof NomineError) return { kind: 'refused', code: 'invalid-input', reason: `HTTP ${status} with ${error.message}: is --server a nomine console?` };
    return networkFailure(error, timeoutMs);
  }
  if (status === 200 || status === 201) return storedReceipt(status, text, answer.headers['idempotent-replayed']);
  const reason = `HTTP ${status}${describeAnswer(text)}`;
  if (status === 429 || status === 408 || status >= 500) {
    const retryAfterMs = parseRetryAfter(answer.headers['retry-after'], now());
    return { kind: 'retry', code: status === 504 || status === 408 ? 'timeout' : status === 429 ? 'limit-exceeded' : 'unreachable', reason, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
  }
  // 3xx included: redirects are not followed, the token must not travel to another address.
  return { kind: 'refused', code: codeOfStatus[status] ?? 'invalid-input', reason: `${reason}${hints[status] ?? ''}` };
}

function storedReceipt(status: number, text: string, replayedHeader: string | string[] | undefined): Attempt {
  let summary: unknown;
  try {
    summary = JSON.parse(text);
  } catch {
    summary = undefined;
  }
  const id = (summary as { id?: unknown } | undefined)?.id;
  if (typeof id !== 'string' || id === '' || id.length > 200) {
    // The report may well be stored (a proxy rewrote the answer), but nothing here can confirm it.
    return { kind: 'refused', code: 'invalid-input', reason: `HTTP ${status} without a report summary${describeAnswer(text)}: is --server a nomine console?` };
  }
  return { kind: 'stored', id, replayed: String(replayedHeader) === 'true' };
}

/** `: message` from the console's error envelope, else a short quote of whatever came back. */
function describeAnswer(text: string): string {
  try {
    const message = (JSON.parse(text) as { error?: { message?: unknown } }).error?.message;
    if (typeof message === 'string' && message !== '') return `: ${message.slice(0, 500)}`;
  } catch {
    // Not JSON: quoted below.
  }
  const quote = text.replace(/[^\x20-\x7e]+/g, ' ').replace(/\s+/g, ' ').trim().slice(0, quotedAnswerChars);
  return quote ? `: ${quote}` : '';
}

const transientNetworkCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ETIMEDOUT', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);
const timeoutCodes = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);

function networkFailure(error: unknown, timeoutMs: number): Attempt {
  const name = (error as { name?: string } | null)?.name ?? '';
  const code = String((error as { code?: unknown; cause?: { code?: unknown } } | null)?.code ?? (error as { cause?: { code?: unknown } } | null)?.cause?.code ?? '');
  const message = error instanceof Error ? error.message : String(error);
  if (name === 'TimeoutError' || name === 'AbortError' || timeoutCodes.has(code)) return { kind: 'retry', code: 'timeout', reason: `no answer within ${timeoutMs / 1000} s` };
  if (code === 'ECONNREFUSED') return { kind: 'retry', code: 'unreachable', reason: 'connection refused (is the console running and listening there?)' };
  if (transientNetworkCodes.has(code)) return { kind: 'retry', code: 'unreachable', reason: `${code}: ${message}` };
  if (code === 'ENOTFOUND') return { kind: 'refused', code: 'unreachable', reason: `unknown host (${message})` };
  if (/certificate|self.signed|CERT_|SSL|TLS/i.test(`${code} ${message}`)) {
    return { kind: 'refused', code: 'unreachable', reason: `TLS: ${code ? `${code}: ` : ''}${message} (for a private CA, give its certificate with --ca-file)` };
  }
  return { kind: 'retry', code: 'unreachable', reason: `${code ? `${code}: ` : ''}${message}` };
}
