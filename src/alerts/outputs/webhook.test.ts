import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Alert } from '../alert.ts';
import { createWebhookOutput, parseRetryAfter, signWebhookBody, type WebhookOutputOptions } from './webhook.ts';

interface Received {
  headers: IncomingMessage['headers'];
  body: string;
}

type Responder = (req: Received, res: ServerResponse, n: number) => void;

const servers: Server[] = [];
after(async () => {
  for (const server of servers) await new Promise((resolve) => server.close(resolve));
});

/** A real receiver on 127.0.0.1; `respond` decides each answer (the nth request, from 1). */
async function receiver(respond: Responder = (_req, res) => res.writeHead(204).end()) {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = { headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      received.push(r);
      respond(r, res, received.length);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return { url, received, server };
}

function alert(n: number): Alert {
  return {
    id: `alert-${n}`,
    dedupeKey: `mining-pool|container:kv|pool.example:3333`,
    rule: 'mining-pool',
    severity: 'critical',
    message: 'kv-1 connected to a known mining pool; the process was killed.',
    entity: { id: 'c1', name: 'kv-1' },
    workload: 'container:kv',
    seen: 'connect tcp 203.0.113.7:3333 (pool.example)',
    allowed: '1 destination: 10.0.0.5:6379',
    mode: 'prevent',
    phase: 'learning',
    action: { taken: 'killed', reason: 'a mining pool is never allowed' },
    firstAt: 1000,
    lastAt: 1000 + n,
    count: n,
  };
}

const fast: Partial<WebhookOutputOptions> = { backoff: { baseMs: 2, maxMs: 10 }, timeoutMs: 1000 };
const never = new AbortController().signal;

describe('webhook output', () => {
  it('posts each alert as JSON with its content type, authorization, idempotency key and a signature that verifies', async () => {
    const hook = await receiver();
    const secret = 's3cret-key';
    const output = createWebhookOutput({ ...fast, url: hook.url, secret, authorization: 'Bearer t0ken' });
    const result = await output.send([alert(1), alert(2)], never);
    await output.close?.();
    assert.deepEqual(result, { handled: 2, rejected: 0, failedAttempts: 0 });
    assert.equal(hook.received.length, 2);
    const [first] = hook.received;
    assert.deepEqual(JSON.parse(first!.body), alert(1));
    assert.equal(first!.headers['content-type'], 'application/json');
    assert.equal(first!.headers.authorization, 'Bearer t0ken');
    assert.equal(first!.headers['idempotency-key'], 'alert-1:1');
    // Verified the way a receiver would: recompute over the raw body, compare in constant time.
    const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(first!.body).digest('hex')}`);
    const got = Buffer.from(String(first!.headers['x-nomine-signature']));
    assert.ok(got.length === expected.length && timingSafeEqual(got, expected));
    assert.notEqual(signWebhookBody(first!.body, 'wrong'), String(first!.headers['x-nomine-signature']));
  });

  it('sends no signature or authorization when none is configured', async () => {
    const hook = await receiver();
    const output = createWebhookOutput({ ...fast, url: hook.url });
    await output.send([alert(1)], never);
    await output.close?.();
    assert.equal(hook.received[0]!.headers['x-nomine-signature'], undefined);
    assert.equal(hook.received[0]!.headers.authorization, undefined);
  });

  it('retries after a 500 and delivers on the 200 that follows', async () => {
    const hook = await receiver((_r, res, n) => res.writeHead(n === 1 ? 500 : 200).end('ok'));
    const output = createWebhookOutput({ ...fast, url: hook.url });
    const result = await output.send([alert(1)], never);
    await output.close?.();
    assert.deepEqual(result, { handled: 1, rejected: 0, failedAttempts: 1 });
    assert.equal(hook.received.length, 2);
    assert.equal(hook.received[1]!.body, hook.received[0]!.body, 'the same body again');
  });

  it('does not retry a 400: the alert is counted as rejected, with the reason, and the next one goes on', async () => {
    const hook = await receiver((r, res) => (JSON.parse(r.body).id === 'alert-1' ? res.writeHead(400).end('{"error":"unknown field seen"}') : res.writeHead(202).end()));
    const output = createWebhookOutput({ ...fast, url: hook.url });
    const result = await output.send([alert(1), alert(2)], never);
    await output.close?.();
    assert.equal(result.handled, 2);
    assert.equal(result.rejected, 1);
    assert.equal(result.failedAttempts, 0);
    assert.match(result.rejection!, /^HTTP 400: \{"error":"unknown field seen"\}/);
    assert.equal(hook.received.length, 2, 'one request per alert, no retry');
  });

  it('treats a redirect as a refusal rather than following it', async () => {
    const hook = await receiver((_r, res) => res.writeHead(302, { location: 'http://127.0.0.1:1/elsewhere' }).end());
    const output = createWebhookOutput({ ...fast, url: hook.url });
    const result = await output.send([alert(1)], never);
    await output.close?.();
    assert.equal(result.rejected, 1);
    assert.equal(hook.received.length, 1);
  });

  it('honours Retry-After on a 429, up to its ceiling', async () => {
    const hook = await receiver((_r, res, n) => (n === 1 ? res.writeHead(429, { 'retry-after': '1' }).end() : res.writeHead(200).end()));
    const output = createWebhookOutput({ ...fast, url: hook.url, maxRetryAfterMs: 250 });
    const started = performance.now();
    const result = await output.send([alert(1)], never);
    const waited = performance.now() - started;
    await output.close?.();
    assert.equal(result.handled, 1);
    assert.ok(waited >= 240 && waited < 900, `waited ${waited} ms: the 250 ms ceiling, not the 2 ms backoff nor the full second`);
  });

  it('gives up after its attempts when the receiver is down, handling nothing, so the batch is tried again later', async () => {
    const hook = await receiver();
    await new Promise((resolve) => hook.server.close(resolve));
    const output = createWebhookOutput({ ...fast, url: hook.url, maxAttempts: 3 });
    const result = await output.send([alert(1), alert(2)], never);
    await output.close?.();
    assert.equal(result.handled, 0);
    assert.equal(result.failedAttempts, 3);
    assert.match(result.failure!.message, /connection refused/);
  });

  it('stops at the alert that keeps failing and reports the ones before it as handled', async () => {
    const hook = await receiver((r, res) => res.writeHead(JSON.parse(r.body).id === 'alert-2' ? 503 : 200, { 'retry-after': '7' }).end());
    const output = createWebhookOutput({ ...fast, url: hook.url, maxAttempts: 2, maxRetryAfterMs: 5 });
    const result = await output.send([alert(1), alert(2), alert(3)], never);
    await output.close?.();
    assert.equal(result.handled, 1);
    assert.equal(result.failedAttempts, 2);
    assert.equal(result.failure!.retryAfterMs, 5, 'the dispatcher is told how long the receiver asked to wait, capped');
  });

  it('abandons a request the receiver does not answer within the timeout', async () => {
    const hook = await receiver(() => undefined);
    const output = createWebhookOutput({ ...fast, url: hook.url, timeoutMs: 150, maxAttempts: 1 });
    const started = performance.now();
    const result = await output.send([alert(1)], never);
    await output.close?.();
    assert.ok(performance.now() - started < 1000);
    assert.equal(result.handled, 0);
    assert.match(result.failure!.message, /no answer within 150 ms/);
  });

  it('stops waiting to retry when it is told to stop', async () => {
    const hook = await receiver((_r, res) => res.writeHead(503).end());
    const output = createWebhookOutput({ url: hook.url, backoff: { baseMs: 60_000, maxMs: 60_000 } });
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 50);
    const started = performance.now();
    const result = await output.send([alert(1)], stop.signal);
    await output.close?.();
    assert.ok(performance.now() - started < 1000);
    assert.equal(result.handled, 0);
    assert.ok(result.failure);
  });

  it('refuses a URL that is not http or https', () => {
    for (const url of ['not a url', 'file:///etc/passwd', 'ftp://127.0.0.1/x', '']) {
      assert.throws(() => createWebhookOutput({ url }), { code: 'invalid-input' });
    }
  });
});

describe('Retry-After', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');
  it('reads seconds and HTTP dates', () => {
    assert.equal(parseRetryAfter('120', now), 120_000);
    assert.equal(parseRetryAfter(' 0 ', now), 0);
    assert.equal(parseRetryAfter('Wed, 01 Jan 2025 00:00:30 GMT', now), 30_000);
    assert.equal(parseRetryAfter(['5', '9'], now), 5000);
  });

  it('never asks to wait into the past', () => {
    assert.equal(parseRetryAfter('Tue, 31 Dec 2024 23:00:00 GMT', now), 0);
  });

  it('ignores values it cannot read', () => {
    for (const value of [undefined, '', '-5', '1.5', 'soon', '99999999999999999999', 'Wed, garbage', '<script>', 'x'.repeat(10_000)]) {
      assert.equal(parseRetryAfter(value, now), undefined, String(value).slice(0, 30));
    }
  });
});
