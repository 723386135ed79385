/**
 * The alert pipeline surviving a real crash: an agent process (a child running the dispatcher) writes a stream of
 * alerts into its outbox while the webhook receiver is down, and is killed with SIGKILL in the middle of it. A new
 * dispatcher on the same outbox, with the receiver back up, delivers every alert that reached the disk exactly
 * once, in the order they were raised, each with a signature the receiver verifies.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Alert } from '../../src/alerts/alert.ts';
import { createAlertDispatcher } from '../../src/alerts/alert-dispatcher.ts';
import { createWebhookOutput } from '../../src/alerts/outputs/webhook.ts';

const secret = 'e2e-shared-secret';
const cleanups: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** Nothing listens on the port while `server` is undefined: the receiver is down. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

function verified(body: string, header: string | string[] | undefined): boolean {
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(body).digest('hex')}`);
  const got = Buffer.from(String(header ?? ''));
  return got.length === expected.length && timingSafeEqual(got, expected);
}

const childScript = (dispatcherPath: string, webhookPath: string) => `
import { createAlertDispatcher } from ${JSON.stringify(dispatcherPath)};
import { createWebhookOutput } from ${JSON.stringify(webhookPath)};
const unlimited = { perSecond: 1e9, burst: 1e9 };
const d = await createAlertDispatcher({
  outboxDir: process.env.OUTBOX_DIR,
  outputs: { webhook: createWebhookOutput({ url: process.env.WEBHOOK_URL, secret: process.env.SECRET, maxAttempts: 1 }) },
  rates: { workload: unlimited, global: unlimited },
  retry: { baseMs: 20, maxMs: 50 },
});
let i = 0;
for (;;) {
  for (let k = 0; k < 25; k++, i++) {
    d.submit({
      dedupeKey: 'drift|container:kv|/tmp/m' + i, rule: 'drift', severity: 'high',
      message: 'kv-1 ran /tmp/m' + i + ', written after the container started.',
      entity: { id: 'c1', name: 'kv-1' }, workload: 'container:kv', seen: 'exec /tmp/m' + i + ' #' + i,
      allowed: 'executables from the image only', mode: 'alert', phase: 'enforcing',
      action: { taken: 'none', reason: 'alert mode only reports' },
    });
  }
  await d.flush();
  process.stdout.write('committed ' + d.stats().outbox.lastSeq + '\\n');
}
`;

describe('alert delivery across a crash (e2e)', () => {
  it('delivers every alert written before a SIGKILL exactly once, in order, after a restart', async () => {
    const outboxDir = await mkdtemp(join(tmpdir(), 'nomine-e2e-outbox-'));
    cleanups.push(() => rm(outboxDir, { recursive: true, force: true }));
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/nomine`;

    // 1. The agent raises alerts while the receiver is down; kill it mid-stream once a good number are on disk.
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', childScript(new URL('../../src/alerts/alert-dispatcher.ts', import.meta.url).pathname, new URL('../../src/alerts/outputs/webhook.ts', import.meta.url).pathname)],
      { env: { ...process.env, OUTBOX_DIR: outboxDir, WEBHOOK_URL: url, SECRET: secret }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    cleanups.push(async () => child.kill('SIGKILL'));
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    let committed = 0;
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    for await (const line of createInterface({ input: child.stdout })) {
      committed = Number(line.split(' ')[1]);
      if (committed >= 600) {
        child.kill('SIGKILL');
        break;
      }
    }
    assert.equal(await exited, 'SIGKILL', stderr);
    assert.ok(committed >= 600, `the child reported ${committed} alerts on disk; stderr: ${stderr}`);

    // 2. The receiver comes up; a new dispatcher on the same outbox replays.
    const received: Alert[] = [];
    let badSignatures = 0;
    const server: Server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        if (!verified(body, req.headers['x-nomine-signature'])) {
          badSignatures += 1;
          res.writeHead(401).end();
          return;
        }
        received.push(JSON.parse(body) as Alert);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => server.close(resolve)));

    const restarted = await createAlertDispatcher({ outboxDir, outputs: { webhook: createWebhookOutput({ url, secret }) } });
    cleanups.push(() => restarted.close());
    const onDisk = restarted.stats().outbox.lastSeq;
    assert.ok(onDisk >= committed, `${onDisk} alerts on disk after the crash, ${committed} reported synced before it`);
    assert.equal(restarted.stats().outbox.corruptLines, 0);
    const deadline = Date.now() + 20_000;
    while (restarted.stats().outputs.webhook!.pending > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    await restarted.close();

    assert.equal(badSignatures, 0);
    const raised = received.map((a) => Number(a.seen.split('#')[1]));
    assert.equal(raised.length, onDisk, 'every alert on disk arrived');
    assert.deepEqual(
      raised,
      Array.from({ length: onDisk }, (_, i) => i),
      'once each, in the order raised',
    );
    assert.equal(restarted.stats().outputs.webhook!.delivered, onDisk);
  });
});
