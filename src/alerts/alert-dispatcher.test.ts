import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { Alert } from './alert.ts';
import type { AlertDraft } from './aggregate.ts';
import { createAlertDispatcher, type AlertDispatcher, type AlertDispatcherOptions } from './alert-dispatcher.ts';
import { createJsonlOutput } from './outputs/jsonl.ts';
import { createWebhookOutput } from './outputs/webhook.ts';
import { isRateLimitSummary } from './rate-limit.ts';

const cleanups: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'nomine-dispatch-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

type Respond = (alert: Alert, res: ServerResponse, n: number) => void;

/** A webhook receiver on 127.0.0.1 that can be taken down and brought back up on the same port. */
async function receiver(respond: Respond = (_a, res) => res.writeHead(200).end()) {
  const alerts: Alert[] = [];
  const signatures: string[] = [];
  let server: Server | undefined;
  let port = 0;
  let requests = 0;
  const handler = (req: import('node:http').IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      signatures.push(`${req.headers['x-nomine-signature']}|${createHmac('sha256', 'k').update(body).digest('hex')}`);
      const alert = JSON.parse(body) as Alert;
      respond(alert, res, ++requests);
      if (res.statusCode < 300) alerts.push(alert);
    });
  };
  const up = async () => {
    server = createServer(handler);
    await new Promise<void>((resolve) => server!.listen(port, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  };
  const down = async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    server = undefined;
  };
  await up();
  cleanups.push(down);
  return { alerts, signatures, up, down, url: () => `http://127.0.0.1:${port}/alerts` };
}

function draft(key: string, overrides: Partial<AlertDraft> = {}): AlertDraft {
  return {
    dedupeKey: `process-not-allowed|container:kv|${key}`,
    rule: 'process-not-allowed',
    severity: 'critical',
    message: `kv-store (container kv-1) ran ${key}, which its profile does not allow; the process was killed.`,
    entity: { id: 'c1', name: 'kv-1' },
    workload: 'container:kv',
    image: 'kv-store:1.0',
    seen: `exec ${key} by /bin/sh`,
    allowed: '2 executables: /bin/busybox, /bin/sh',
    mode: 'prevent',
    phase: 'enforcing',
    action: { taken: 'killed', reason: 'prevent mode kills processes outside the profile' },
    ...overrides,
  };
}

/** The JSON lines output on a stream that parses each line as it is written, so what was delivered is known at once. */
function collector() {
  const alerts: Alert[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) alerts.push(JSON.parse(line) as Alert);
      callback();
    },
  });
  return { alerts, output: createJsonlOutput({ stream }) };
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const fastWebhook = { backoff: { baseMs: 2, maxMs: 10 }, maxAttempts: 2, timeoutMs: 1000 };

async function dispatcher(options: Partial<AlertDispatcherOptions> & Pick<AlertDispatcherOptions, 'outboxDir' | 'outputs'>): Promise<AlertDispatcher> {
  const d = await createAlertDispatcher({ retry: { baseMs: 5, maxMs: 20 }, closeTimeoutMs: 1000, ...options });
  cleanups.push(() => d.close());
  return d;
}

/** Outputs upsert by id: the highest count per id is what a receiver knows. */
function totalCount(alerts: Alert[]): number {
  const byId = new Map<string, number>();
  for (const a of alerts) byId.set(a.id, Math.max(byId.get(a.id) ?? 0, a.count));
  return [...byId.values()].reduce((sum, c) => sum + c, 0);
}

describe('alert dispatcher', () => {
  it('delivers the first occurrence at once and an aggregated update after the window', async () => {
    const clock = { t: 1_700_000_000_000, now: () => clock.t };
    const jsonl = collector();
    const d = await dispatcher({ outboxDir: await tempDir(), outputs: { jsonl: jsonl.output }, clock, windowMs: 60_000 });
    const first = d.submit(draft('/tmp/xmrig'))!;
    assert.equal(first.count, 1);
    for (let i = 0; i < 4; i++) {
      clock.t += 1000;
      assert.equal(d.submit(draft('/tmp/xmrig'))!.id, first.id);
    }
    await d.flush();
    assert.deepEqual(
      jsonl.alerts.map((a) => [a.id, a.count]),
      [[first.id, 1]],
    );
    clock.t += 60_000;
    await d.flush();
    assert.deepEqual(
      jsonl.alerts.map((a) => [a.id, a.count]),
      [
        [first.id, 1],
        [first.id, 5],
      ],
    );
    assert.equal(jsonl.alerts[1]!.lastAt - jsonl.alerts[1]!.firstAt, 4000);
    const stats = d.stats();
    assert.equal(stats.submitted, 5);
    assert.equal(stats.opened, 1);
    assert.equal(stats.aggregated, 4);
    assert.equal(stats.outputs.jsonl!.delivered, 2);
    assert.equal(stats.outputs.jsonl!.pending, 0);
  });

  it('keeps delivering to other outputs while the webhook is down, then delivers every alert to it exactly once, in order', async () => {
    const hook = await receiver();
    await hook.down();
    const jsonl = collector();
    const d = await dispatcher({
      outboxDir: await tempDir(),
      outputs: { jsonl: jsonl.output, webhook: createWebhookOutput({ ...fastWebhook, url: hook.url() }) },
    });
    const submitted = Array.from({ length: 30 }, (_, i) => d.submit(draft(`/tmp/m${i}`))!.id);
    await d.flush();
    assert.deepEqual(
      jsonl.alerts.map((a) => a.id),
      submitted,
      'the file output is not held up',
    );
    assert.equal(d.stats().outputs.webhook!.isFailing, true);
    assert.ok(d.stats().outputs.webhook!.failedAttempts >= 2);
    assert.match(d.stats().outputs.webhook!.lastError!, /connection refused/);
    await hook.up();
    await waitFor(() => d.stats().outputs.webhook!.pending === 0, 'the webhook to catch up');
    assert.deepEqual(
      hook.alerts.map((a) => a.id),
      submitted,
    );
    assert.equal(d.stats().outputs.webhook!.delivered, 30);
    assert.equal(d.stats().outputs.webhook!.isFailing, false);
  });

  it('retries a 500 until the 200', async () => {
    const hook = await receiver((_a, res, n) => res.writeHead(n <= 3 ? 500 : 200).end());
    const d = await dispatcher({ outboxDir: await tempDir(), outputs: { webhook: createWebhookOutput({ ...fastWebhook, url: hook.url() }) } });
    const alert = d.submit(draft('/tmp/a'))!;
    await waitFor(() => d.stats().outputs.webhook!.delivered === 1, 'delivery');
    assert.equal(hook.alerts[0]!.id, alert.id);
    assert.equal(d.stats().outputs.webhook!.failedAttempts, 3);
    assert.equal(d.stats().outputs.webhook!.delivered, 1);
  });

  it('does not retry a 400, counts it as rejected, and goes on with the next alert', async () => {
    const hook = await receiver((a, res) => (a.seen.includes('/tmp/bad') ? res.writeHead(400).end('schema mismatch') : res.writeHead(200).end()));
    const d = await dispatcher({ outboxDir: await tempDir(), outputs: { webhook: createWebhookOutput({ ...fastWebhook, url: hook.url() }) } });
    d.submit(draft('/tmp/bad'));
    d.submit(draft('/tmp/good'));
    await d.flush();
    const stats = d.stats().outputs.webhook!;
    assert.equal(stats.rejected, 1);
    assert.equal(stats.delivered, 1);
    assert.equal(stats.failedAttempts, 0);
    assert.equal(stats.pending, 0);
    assert.match(stats.lastRejection!, /HTTP 400: schema mismatch/);
    assert.deepEqual(
      hook.alerts.map((a) => a.seen),
      ['exec /tmp/good by /bin/sh'],
    );
  });

  it('signs every delivery so the receiver can verify it', async () => {
    const hook = await receiver();
    const d = await dispatcher({ outboxDir: await tempDir(), outputs: { webhook: createWebhookOutput({ ...fastWebhook, url: hook.url(), secret: 'k' }) } });
    d.submit(draft('/tmp/a'));
    d.submit(draft('/tmp/b'));
    await d.flush();
    assert.equal(hook.signatures.length, 2);
    for (const pair of hook.signatures) {
      const [sent, computed] = pair.split('|');
      assert.equal(sent, `sha256=${computed}`);
    }
  });

  it('replays undelivered alerts after a restart, and only those', async () => {
    const outboxDir = await tempDir();
    const hook = await receiver();
    await hook.down();
    const first = await createAlertDispatcher({ outboxDir, outputs: { webhook: createWebhookOutput({ ...fastWebhook, url: hook.url() }) }, retry: { baseMs: 5, maxMs: 20 }, closeTimeoutMs: 200 });
    const ids = Array.from({ length: 12 }, (_, i) => first.submit(draft(`/tmp/m${i}`))!.id);
    await first.flush();
    await first.close();
    assert.equal(first.stats().outputs.webhook!.pending, 12);

    await hook.up();
    const second = await dispatcher({ outboxDir, outputs: { webhook: createWebhookOutput({ ...fastWebhook, url: hook.url() }) } });
    await waitFor(() => hook.alerts.length === 12, 'the replay');
    assert.deepEqual(
      hook.alerts.map((a) => a.id),
      ids,
    );
    second.submit(draft('/tmp/after-restart'));
    await second.flush();
    await second.close();

    const third = await dispatcher({ outboxDir, outputs: { webhook: createWebhookOutput({ ...fastWebhook, url: hook.url() }) } });
    await third.flush();
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(hook.alerts.length, 13, 'nothing delivered twice');
    assert.equal(third.stats().outbox.segments, 0, 'and nothing left on disk');
  });

  it('emits pending updates on close, and refuses drafts after it', async () => {
    const clock = { t: 0, now: () => clock.t };
    const jsonl = collector();
    const d = await createAlertDispatcher({ outboxDir: await tempDir(), outputs: { jsonl: jsonl.output }, clock });
    d.submit(draft('/tmp/a'));
    d.submit(draft('/tmp/a'));
    d.submit(draft('/tmp/a'));
    await d.close();
    assert.deepEqual(
      jsonl.alerts.map((a) => a.count),
      [1, 3],
    );
    assert.equal(d.submit(draft('/tmp/late')), undefined);
    assert.equal(d.stats().dropped.closed, 1);
  });

  it('rate-limits a storm without losing a single count', async () => {
    const clock = { t: 0, now: () => clock.t };
    const jsonl = collector();
    const d = await createAlertDispatcher({
      outboxDir: await tempDir(),
      outputs: { jsonl: jsonl.output },
      clock,
      windowMs: 1000,
      maxOpenAggregates: 200,
      rates: { workload: { perSecond: 5, burst: 10 }, global: { perSecond: 20, burst: 40 } },
    });
    for (let i = 0; i < 20_000; i++) {
      clock.t = i; // 20 s of storm, 1000 drafts a second over 5 workloads
      d.submit(draft(`/tmp/f${i % 3000}`, { workload: `w${i % 5}`, dedupeKey: `w${i % 5}|/tmp/f${i % 3000}` }));
    }
    await d.close();
    assert.equal(totalCount(jsonl.alerts), 20_000);
    assert.ok(jsonl.alerts.length < 2000, `${jsonl.alerts.length} lines for 20k drafts`);
    assert.ok(jsonl.alerts.some(isRateLimitSummary));
    const stats = d.stats();
    assert.ok(stats.rateLimited.held > 0 && stats.rateLimited.folded > 0);
    assert.equal(stats.submitted, 20_000);
  });

  it('cuts absurdly long texts (a miner controls its argv) before they reach outputs', async () => {
    const jsonl = collector();
    const d = await dispatcher({ outboxDir: await tempDir(), outputs: { jsonl: jsonl.output } });
    d.submit(draft('/tmp/a', { seen: `exec /tmp/a ${'A'.repeat(1_000_000)}` }));
    await d.flush();
    assert.equal(jsonl.alerts.length, 1);
    assert.ok(jsonl.alerts[0]!.seen.length <= 4096);
    assert.ok(jsonl.alerts[0]!.seen.endsWith('…'));
  });
});
