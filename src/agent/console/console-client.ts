/**
 * The agent's HTTP client of the console: enrolment, batch delivery and profile sync over the routes of
 * src/server/routes/agent-routes.ts, with the agent's credential as a Bearer token and, for a console whose
 * certificate a private CA signed, that CA. Answers are outside data: bounded in size and checked against the
 * wire schemas. Failures are `ConsoleRequestError`s that say whether trying again later can help.
 */
import { readFileSync } from 'node:fs';
import { Agent, request } from 'undici';
import type { z } from 'zod';
import { NomineError, type ErrorCode } from '../../core/errors.ts';
import { readBounded } from '../../platform/read-bounded.ts';
import { parseRetryAfter } from '../../alerts/outputs/webhook.ts';
import { batchResponse, enrolResponse, syncResponse, type AgentBatch, type SyncResponse } from '../../server/schemas/agent-schemas.ts';

/** Milliseconds one request may take, connect to the end of the answer. */
export const consoleRequestTimeoutMs = 30_000;
/** Bytes of one answer (a sync page of large profiles is the largest). */
export const maxConsoleAnswerBytes = 64 * 1024 * 1024;
/** A Retry-After longer than this is cut to it. */
const maxRetryAfterMs = 5 * 60_000;

export interface ConsoleClientOptions {
  server: string;
  credential?: string;
  /** PEM file of the CA that signed the console's certificate. */
  caFile?: string;
  timeoutMs?: number;
}

/** A refused or failed request. `status` is the HTTP status (undefined: no answer at all). */
export class ConsoleRequestError extends NomineError {
  constructor(
    code: ErrorCode,
    message: string,
    part: string,
    readonly status: number | undefined,
    readonly retryAfterMs?: number,
  ) {
    super(code, message, part);
  }

  /** The console refused this content for good (malformed, too large, a reused batch id): resending cannot help. */
  get isRefusal(): boolean {
    return this.status === 400 || this.status === 409 || this.status === 413 || this.status === 422;
  }
}

const codeOfStatus: Record<number, ErrorCode> = { 400: 'invalid-input', 401: 'unauthorized', 403: 'forbidden', 404: 'not-found', 409: 'conflict', 413: 'limit-exceeded', 415: 'unsupported', 429: 'limit-exceeded' };

export interface ConsoleClient {
  readonly server: string;
  enrol(request: { joinToken: string; nodeName: string; version: string }): Promise<z.infer<typeof enrolResponse>>;
  postBatch(batch: AgentBatch): Promise<z.infer<typeof batchResponse>>;
  sync(since: number): Promise<SyncResponse>;
  close(): Promise<void>;
}

function baseUrl(server: string): URL {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new NomineError('invalid-input', `"${server}" is not a URL`, 'console');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new NomineError('invalid-input', `the console URL must be http or https, not ${url.protocol}`, 'console');
  if (url.username || url.password) throw new NomineError('invalid-input', 'the console URL must not carry credentials', 'console');
  // A console behind a path prefix (https://host/nomine/) keeps it: API paths are resolved relative to it.
  if (!url.pathname.endsWith('/')) url.pathname = `${url.pathname}/`;
  url.search = '';
  url.hash = '';
  return url;
}

function retryAfterOf(value: string | string[] | undefined): number | undefined {
  const ms = parseRetryAfter(value, Date.now());
  return ms === undefined ? undefined : Math.min(ms, maxRetryAfterMs);
}

export function createConsoleClient(options: ConsoleClientOptions): ConsoleClient {
  const base = baseUrl(options.server);
  const part = `console ${base.origin}`;
  const timeoutMs = options.timeoutMs ?? consoleRequestTimeoutMs;
  let ca: Buffer | undefined;
  if (options.caFile) {
    try {
      ca = readFileSync(options.caFile);
    } catch (error) {
      throw new NomineError('not-found', `cannot read the console's CA certificate: ${(error as Error).message}`, options.caFile, { cause: error });
    }
  }
  const dispatcher = new Agent({ connect: { timeout: timeoutMs, ...(ca ? { ca } : {}) }, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });

  async function call<T extends z.ZodType>(method: 'GET' | 'POST', path: string, schema: T, body?: unknown, authenticated = true): Promise<z.output<T>> {
    const url = new URL(path, base);
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'nomine-agent' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (authenticated) {
      if (!options.credential) throw new NomineError('unauthorized', 'not enrolled: run `nomine agent enrol` first', part);
      headers.authorization = `Bearer ${options.credential}`;
    }
    let answer;
    try {
      answer = await request(url, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}), dispatcher, signal: AbortSignal.timeout(timeoutMs) });
    } catch (error) {
      const code = String((error as { code?: unknown }).code ?? '');
      const name = (error as { name?: string }).name ?? '';
      const why = code === 'ECONNREFUSED' ? 'connection refused (is the console running?)' : name === 'TimeoutError' || code.includes('TIMEOUT') ? `no answer within ${timeoutMs} ms` : `${code ? `${code}: ` : ''}${(error as Error).message}`;
      throw new ConsoleRequestError(name === 'TimeoutError' ? 'timeout' : 'unreachable', why, part, undefined);
    }
    const text = (await readBounded(answer.body, maxConsoleAnswerBytes, () => new ConsoleRequestError('limit-exceeded', `the answer is larger than ${maxConsoleAnswerBytes} bytes`, part, answer.statusCode))).toString('utf8');
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      value = undefined;
    }
    if (answer.statusCode < 200 || answer.statusCode >= 300) {
      const message = (value as { error?: { message?: unknown } } | undefined)?.error?.message;
      const said = typeof message === 'string' ? message.slice(0, 500) : text.slice(0, 200).replace(/\s+/g, ' ');
      const code = codeOfStatus[answer.statusCode] ?? (answer.statusCode >= 500 ? 'unreachable' : 'invalid-input');
      throw new ConsoleRequestError(code, `${method} ${url.pathname}: HTTP ${answer.statusCode}${said ? `: ${said}` : ''}`, part, answer.statusCode, retryAfterOf(answer.headers['retry-after']));
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new ConsoleRequestError('invalid-input', `${method} ${url.pathname}: the answer is not what a nomine console sends (${issue.path.join('.') || 'body'}: ${issue.message})`, part, answer.statusCode);
    }
    return parsed.data;
  }

  return {
    server: base.href,
    enrol: (body) => call('POST', 'api/agents/enrol', enrolResponse, body, false),
    postBatch: (batch) => call('POST', 'api/agents/batches', batchResponse, batch),
    sync: (since) => call('GET', `api/agents/sync?since=${Math.max(0, Math.floor(since))}`, syncResponse),
    close: () => dispatcher.close(),
  };
}
