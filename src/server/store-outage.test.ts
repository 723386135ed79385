/**
 * The database going away under load (PostgreSQL): the server's connections are terminated and the database refuses
 * new ones for a while, as during a restart. Requests in flight and arriving meanwhile get 503 `unreachable` naming
 * the store (password redacted), never a 500 or a crash; /readyz says not ready; once the database is back the
 * server answers again by itself, and every report it acknowledged is stored. The outage is made with
 * ALTER DATABASE … ALLOW_CONNECTIONS and pg_terminate_backend on this test's own database, which is kinder to
 * other tests than restarting the shared cluster.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { databaseOf } from '../store/store-location.ts';
import { testPostgresUrl, testStoreKind } from '../store/testing/test-store.ts';
import { createToken, sampleEnvelope, startTestServer, withAdmin, type TestServer } from './testing/test-server.ts';

const skip = testStoreKind() === 'postgres' ? false : 'needs NOMINE_TEST_STORE=postgres';

interface Answer {
  status: number;
  code?: string;
  message?: string;
}

describe('the database going away under load', { skip }, () => {
  let server: TestServer;
  let base: string;
  let ingest: string;
  let viewer: string;
  let admin: pg.Client;
  let database: string;
  before(async () => {
    server = await startTestServer();
    const session = await withAdmin(server);
    ingest = (await createToken(server.app, session, 'ingest')).token;
    viewer = (await createToken(server.app, session, 'viewer')).token;
    base = await server.app.listen({ host: '127.0.0.1', port: 0 });
    database = databaseOf(server.store.target);
    admin = new pg.Client({ connectionString: testPostgresUrl() });
    await admin.connect();
  });
  after(async () => {
    await admin.query(`alter database ${database} allow_connections true`).catch(() => {});
    await admin.end();
    await server.close();
  });

  async function send(path: string, token: string, body?: unknown, key?: string): Promise<Answer> {
    const response = await fetch(`${base}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json', 'idempotency-key': key! }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const json = (await response.json()) as { error?: { code: string; message: string } };
    return { status: response.status, ...(json.error ? { code: json.error.code, message: json.error.message } : {}) };
  }

  const ready = async () => (await fetch(`${base}/readyz`)).status;

  it('answers 503 unreachable meanwhile, reports not ready, and recovers by itself', async () => {
    const answers: Answer[] = [];
    const acknowledged = new Set<string>();
    const refused = new Set<string>();
    let running = true;
    let sequence = 0;
    const worker = async (id: number) => {
      while (running) {
        const key = `load-${id}-${(sequence += 1)}`;
        const posted = await send('/api/reports/scan', ingest, sampleEnvelope('scan', { images: [{ name: key }] }), key);
        answers.push(posted);
        (posted.status === 201 ? acknowledged : refused).add(key);
        answers.push(await send('/api/reports?limit=5', viewer));
      }
    };
    const workers = Array.from({ length: 6 }, (_, id) => worker(id));
    const until = async (what: string, condition: () => Promise<boolean> | boolean) => {
      for (const started = Date.now(); !(await condition()); await sleep(50)) {
        if (Date.now() - started > 30_000) throw new Error(`timed out waiting until ${what}`);
      }
    };
    try {
      await until('the load is served', () => acknowledged.size >= 10);
      assert.equal(await ready(), 200);

      await admin.query(`alter database ${database} allow_connections false`);
      await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [database]);
      const beforeOutage = answers.length;
      await until('requests are refused as unreachable', () => answers.slice(beforeOutage).filter((answer) => answer.code === 'unreachable').length >= 10);
      assert.equal(await ready(), 503);

      await admin.query(`alter database ${database} allow_connections true`);
      await until('the server is ready again', async () => (await ready()) === 200);
      const afterOutage = answers.length;
      await until('the load is served again', () => answers.slice(afterOutage).filter((answer) => answer.status < 300).length >= 10);
    } finally {
      running = false;
      await Promise.all(workers);
    }

    const unexpected = answers.filter((answer) => answer.status >= 300 && !(answer.status === 503 && answer.code === 'unreachable'));
    assert.deepEqual(unexpected, [], 'only successes and 503 unreachable');
    const outage = answers.find((answer) => answer.code === 'unreachable')!;
    assert.match(outage.message!, /^store postgres:\/\/nomine_test:\*\*\*@127\.0\.0\.1:\d+\/nomine_t_\w+: PostgreSQL does not answer: /);
    assert.doesNotMatch(outage.message!, new RegExp(new URL(server.store.target).password));

    // Nothing acknowledged was lost; what was refused goes through when sent again.
    const stored = await server.db.selectFrom('server_reports').select('idempotency_key').execute();
    const storedKeys = new Set(stored.map((row) => row.idempotency_key));
    for (const key of acknowledged) assert.ok(storedKeys.has(key), `acknowledged report ${key} is stored`);
    for (const key of [...refused].slice(0, 5)) {
      assert.equal((await send('/api/reports/scan', ingest, sampleEnvelope('scan', { images: [{ name: key }] }), key)).status, 201);
    }
  });
});
