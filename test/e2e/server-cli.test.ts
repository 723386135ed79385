/**
 * `nomine server` as a user runs it: the built CLI on 127.0.0.1 with a free port and its own $NOMINE_HOME (or, with
 * NOMINE_TEST_STORE=postgres, its own PostgreSQL database through --db). The first start prints a one-time setup
 * link; setup, login, CSRF, tokens and report ingestion go over real HTTP(S).
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { makeDaemonCertificates } from '../helpers/probe-certificates.ts';
import { startConsoleServer as startServer } from '../helpers/console-server.ts';
import { cliEntry, repositoryRoot, runCli } from '../helpers/run-cli.ts';
import { createTestStore, type TestStore } from '../../src/store/testing/test-store.ts';

const password = 'correct horse battery staple';

async function call(url: string, options: { method?: string; body?: unknown; headers?: Record<string, string>; dispatcher?: Agent } = {}) {
  const response = await request(url, {
    method: (options.method ?? 'GET') as 'GET',
    headers: { ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}), ...options.headers },
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
  });
  const text = await response.body.text();
  const isJson = String(response.headers['content-type']).startsWith('application/json');
  return { status: response.statusCode, headers: response.headers, text, json: isJson ? (JSON.parse(text) as Record<string, any>) : {} };
}

// Until `nomine server` is registered in src/cli/main.ts, commander answers its help with the top-level help.
const registered = /Usage: nomine server/.test(spawnSync(process.execPath, [cliEntry, 'server', '--help'], { cwd: repositoryRoot, encoding: 'utf8' }).stdout ?? '');
const skip = registered ? false : 'build first (npm run build) with `nomine server` registered in src/cli/main.ts';

describe('nomine server', { skip }, () => {
  const stores: TestStore[] = [];
  after(async () => {
    for (const store of stores) await store.drop();
  });

  /**
   * A fresh store on the run's backend, and the flags that point `nomine server` at it: on PostgreSQL, --db without
   * the password, which comes from a file, as an operator keeps it out of `ps`.
   */
  async function freshStore(): Promise<{ home: string; storeArgs: string[] }> {
    const store = await createTestStore('nomine-e2e-server-');
    stores.push(store);
    if (store.kind === 'sqlite') return { home: store.home, storeArgs: [] };
    const url = new URL(store.target);
    const passwordFile = join(store.home, 'db-password');
    await writeFile(passwordFile, `${decodeURIComponent(url.password)}\n`, { mode: 0o600 });
    url.password = '';
    return { home: store.home, storeArgs: ['--db', url.toString(), '--db-password-file', passwordFile] };
  }

  it('prints a single-use setup link on first start; setup, login, tokens and ingestion work over HTTP', async () => {
    const { home, storeArgs } = await freshStore();
    const server = await startServer(home, storeArgs);
    try {
      const link = /setup link \(single use, valid until ([^)]+)\): (\S+)\/setup#token=(\S+)/.exec(server.output.stdout);
      assert.ok(link, server.output.stdout);
      assert.ok(Date.parse(link[1]!) > Date.now());
      assert.equal(link[2], server.url);
      const token = link[3]!;

      assert.equal((await call(`${server.url}/api/login`, { method: 'POST', body: { username: 'admin', password } })).status, 409);
      const setup = await call(`${server.url}/api/setup`, { method: 'POST', body: { token, username: 'admin', password } });
      assert.equal(setup.status, 201);
      assert.equal((await call(`${server.url}/api/setup`, { method: 'POST', body: { token, username: 'mallory', password } })).status, 409);

      const login = await call(`${server.url}/api/login`, { method: 'POST', body: { username: 'admin', password } });
      assert.equal(login.status, 200);
      const cookie = String(login.headers['set-cookie']).split(';')[0]!;
      assert.match(String(login.headers['set-cookie']), /HttpOnly; SameSite=Strict/);
      const session = { cookie, 'x-csrf-token': login.json.csrfToken as string };

      assert.equal((await call(`${server.url}/api/tokens`, { method: 'POST', body: { name: 'ci', role: 'ingest' }, headers: { cookie } })).status, 403);
      const created = await call(`${server.url}/api/tokens`, { method: 'POST', body: { name: 'ci', role: 'ingest' }, headers: session });
      assert.equal(created.status, 201);
      const bearer = { authorization: `Bearer ${created.json.token}`, 'idempotency-key': 'e2e-1' };
      const envelope = { kind: 'audit', tool: { name: 'nomine', version: '0.1.0' }, generatedAt: new Date().toISOString(), report: { results: [] } };
      const first = await call(`${server.url}/api/reports/audit`, { method: 'POST', body: envelope, headers: bearer });
      const replay = await call(`${server.url}/api/reports/audit`, { method: 'POST', body: envelope, headers: bearer });
      assert.equal(first.status, 201);
      assert.equal(replay.json.id, first.json.id);
      const listed = await call(`${server.url}/api/reports?kind=audit`, { headers: session });
      assert.deepEqual(listed.json.reports.map((report: { id: string }) => report.id), [first.json.id]);

      const metrics = await call(`${server.url}/metrics`, { headers: { authorization: `Bearer ${created.json.token}` } });
      assert.equal(metrics.status, 200);
      assert.match(metrics.text, /nomine_server_reports_ingested_total\{kind="audit",replayed="true"\} 1/);
      assert.equal((await call(`${server.url}/readyz`)).json.status, 'ready');
    } finally {
      assert.equal(await server.stop(), 0);
    }

    // A restart on the same store: setup is done, so no new link; the admin still logs in.
    const again = await startServer(home, storeArgs);
    try {
      assert.doesNotMatch(again.output.stdout, /setup link/);
      assert.equal((await call(`${again.url}/api/login`, { method: 'POST', body: { username: 'admin', password } })).status, 200);
    } finally {
      assert.equal(await again.stop(), 0);
    }
  });

  it('creates admin from NOMINE_ADMIN_PASSWORD without printing it, and sets Secure cookies over TLS', async () => {
    const { home, storeArgs } = await freshStore();
    const certificates = makeDaemonCertificates();
    const server = await startServer(home, ['--tls-cert', certificates.serverCert, '--tls-key', certificates.serverKey, ...storeArgs], { NOMINE_ADMIN_PASSWORD: password });
    const dispatcher = new Agent({ connect: { ca: certificates.read(certificates.ca) } });
    try {
      assert.match(server.url, /^https:\/\//);
      assert.ok(!server.output.stdout.includes(password) && !server.output.stderr.includes(password));
      assert.doesNotMatch(server.output.stdout, /setup link/);
      const login = await call(`${server.url}/api/login`, { method: 'POST', body: { username: 'admin', password }, dispatcher });
      assert.equal(login.status, 200);
      assert.match(String(login.headers['set-cookie']), /^__Host-nomine_session=[^;]+; Max-Age=\d+; Path=\/; HttpOnly; Secure; SameSite=Strict$/);
    } finally {
      await dispatcher.close();
      certificates.remove();
      assert.equal(await server.stop(), 0);
    }
  });

  it('refuses to start on a database it cannot reach, naming it without the password', async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    const url = `postgres://nomine:hunter2-secret@127.0.0.1:${port}/console`;
    const { home } = await freshStore();
    for (const run of [{ args: ['--db', url], env: {} }, { args: [], env: { NOMINE_DB_URL: url } }]) {
      const result = await runCli(['server', '--listen', '127.0.0.1:0', ...run.args], { home, env: run.env, timeoutMs: 30_000 });
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, new RegExp(`unreachable: store postgres://nomine:\\*\\*\\*@127\\.0\\.0\\.1:${port}/console: PostgreSQL does not answer: .*ECONNREFUSED`));
      assert.doesNotMatch(result.stderr + result.stdout, /hunter2/);
    }
    const file = await runCli(['server', '--listen', '127.0.0.1:0', '--db', 'postgres://nomine@127.0.0.1:1/console', '--db-password-file', join(home, 'missing')], { home });
    assert.equal(file.code, 2);
    assert.match(file.stderr, /cannot read the database password/);
  });
});
