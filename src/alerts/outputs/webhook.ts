/**
 * Webhook output: POSTs each alert as one JSON object per request (as Falcosidekick does), so any receiver that
 * takes a JSON body works and a receiver's refusal concerns one alert only. Headers: `Content-Type:
 * application/json`; `Authorization` when configured; `X-Nomine-Signature: sha256=<hex>`, the HMAC-SHA256 of the
 * exact body under the shared secret, when one is configured (verify it before trusting the body);
 * `Idempotency-Key: <id>:<count>`, the same for a repeated delivery of the same snapshot, so a receiver can drop
 * duplicates. Network errors, timeouts, 5xx and 429 are retried with exponential backoff and jitter (Retry-After is
 * honoured, up to a ceiling); any other answer outside 2xx (4xx, and 3xx: redirects are not followed) rejects that
 * alert for good: it is counted as rejected and not retried. After `maxAttempts` failures the batch stops there
 * and the dispatcher tries again later from the outbox.
 */
import { createHmac } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { NomineError } from '../../core/errors.ts';
import type { Alert } from '../alert.ts';
import type { AlertOutput, DeliveryResult } from '../alert-output.ts';
import { backoffDelayMs, type BackoffPolicy } from '../backoff.ts';

export const signatureHeader = 'x-nomine-signature';
/** Milliseconds one POST may take, connect to the end of the answer. */
export const defaultWebhookTimeoutMs = 10_000;
/** Tries of one alert within one batch; beyond it the dispatcher's own backoff takes over. */
export const defaultWebhookMaxAttempts = 5;
export const defaultWebhookBackoff: BackoffPolicy = { baseMs: 500, maxMs: 30_000 };
/** A Retry-After longer than this is cut to it: a receiver cannot park the output for a day. */
export const maxWebhookRetryAfterMs = 5 * 60_000;
/** Bytes of a refusal's body quoted in the rejection reason. */
const quotedBodyBytes = 200;

export interface WebhookOutputOptions {
  url: string;
  /** Value of the Authorization header (`Bearer …`). */
  authorization?: string;
  /** Shared secret for the X-Nomine-Signature HMAC. */
  secret?: string;
  timeoutMs?: number;
  maxAttempts?: number;
  backoff?: BackoffPolicy;
  maxRetryAfterMs?: number;
  /** [0, 1): jitter source, fixed in tests. */
  random?: () => number;
  /** Wall clock for Retry-After dates. */
  now?: () => number;
}

/** Signature of a body as the X-Nomine-Signature header carries it. */
export function signWebhookBody(body: string | Buffer, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * Milliseconds a Retry-After value asks to wait (RFC 9110 §10.2.3: delay-seconds or an HTTP-date), or undefined
 * when it is absent or unreadable.
 */
export function parseRetryAfter(value: string | string[] | undefined, now: number): number | undefined {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!text) return undefined;
  if (/^\d{1,10}$/.test(text)) return Number(text) * 1000;
  if (!/^[A-Za-z]{3,9},? [\w :-]{10,40}$/.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

type Attempt = { kind: 'delivered' } | { kind: 'rejected'; reason: string } | { kind: 'retry'; reason: string; retryAfterMs?: number };

function describeNetworkError(error: unknown, timeoutMs: number): string {
  const name = (error as { name?: string } | null)?.name ?? '';
  const code = String((error as { code?: unknown } | null)?.code ?? '');
  if (name === 'TimeoutError' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return `no answer within ${timeoutMs} ms`;
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return `no connection within ${timeoutMs} ms`;
  if (code === 'ECONNREFUSED') return 'connection refused (nothing listens there)';
  const message = error instanceof Error ? error.message : String(error);
  return `${code ? `${code}: ` : ''}${message}`;
}

async function quoteBody(body: AsyncIterable<unknown> & { destroy(): unknown }): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      chunks.push(chunk as Buffer);
      size += (chunk as Buffer).length;
      if (size >= quotedBodyBytes) break;
    }
  } catch {
    // The quote is a courtesy; a broken body still leaves the status to report.
  }
  body.destroy();
  const text = Buffer.concat(chunks).subarray(0, quotedBodyBytes).toString('utf8').replace(/\s+/g, ' ').trim();
  return text ? `: ${text}` : '';
}

export function createWebhookOutput(options: WebhookOutputOptions): AlertOutput {
  let url: URL;
  try {
    url = new URL(options.url);
  } catch {
    throw new NomineError('invalid-input', `"${options.url}" is not a URL`, 'webhook output');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new NomineError('invalid-input', `the webhook URL must be http or https, not ${url.protocol}`, 'webhook output');
  }
  const timeoutMs = options.timeoutMs ?? defaultWebhookTimeoutMs;
  const maxAttempts = Math.max(1, options.maxAttempts ?? defaultWebhookMaxAttempts);
  const policy = options.backoff ?? defaultWebhookBackoff;
  const maxRetryAfterMs = options.maxRetryAfterMs ?? maxWebhookRetryAfterMs;
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  const agent = new Agent({ connect: { timeout: timeoutMs }, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });

  async function post(alert: Alert, signal: AbortSignal): Promise<Attempt> {
    const body = JSON.stringify(alert);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'nomine-alerts',
      'idempotency-key': `${alert.id}:${alert.count}`,
    };
    if (options.authorization) headers.authorization = options.authorization;
    if (options.secret) headers[signatureHeader] = signWebhookBody(body, options.secret);
    let answer;
    try {
      answer = await request(url, {
        method: 'POST',
        headers,
        body,
        dispatcher: agent,
        signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
      });
    } catch (error) {
      return { kind: 'retry', reason: signal.aborted ? 'stopped' : describeNetworkError(error, timeoutMs) };
    }
    const status = answer.statusCode;
    if (status >= 200 && status < 300) {
      await answer.body.dump({ limit: 64 * 1024 }).catch(() => undefined);
      return { kind: 'delivered' };
    }
    const quote = await quoteBody(answer.body);
    if (status === 429 || status >= 500) {
      const retryAfterMs = parseRetryAfter(answer.headers['retry-after'], now());
      return { kind: 'retry', reason: `HTTP ${status}${quote}`, ...(retryAfterMs === undefined ? {} : { retryAfterMs: Math.min(retryAfterMs, maxRetryAfterMs) }) };
    }
    return { kind: 'rejected', reason: `HTTP ${status}${quote}` };
  }

  return {
    async send(alerts, signal) {
      const result: DeliveryResult = { handled: 0, rejected: 0, failedAttempts: 0 };
      for (const alert of alerts) {
        for (let attempt = 1; ; attempt++) {
          if (signal.aborted) return { ...result, failure: { message: 'stopped before delivery' } };
          const outcome = await post(alert, signal);
          if (outcome.kind === 'delivered') break;
          if (outcome.kind === 'rejected') {
            result.rejected += 1;
            result.rejection = outcome.reason;
            break;
          }
          result.failedAttempts += 1;
          if (attempt >= maxAttempts || signal.aborted) {
            const failure = { message: `${url.origin}: ${outcome.reason}`, ...(outcome.retryAfterMs === undefined ? {} : { retryAfterMs: outcome.retryAfterMs }) };
            return { ...result, failure };
          }
          const delay = outcome.retryAfterMs ?? backoffDelayMs(attempt, policy, random);
          try {
            await sleep(delay, undefined, { signal });
          } catch {
            return { ...result, failure: { message: `${url.origin}: ${outcome.reason} (stopped while waiting to retry)` } };
          }
        }
        result.handled += 1;
      }
      return result;
    },

    async close() {
      await agent.close();
    },
  };
}
