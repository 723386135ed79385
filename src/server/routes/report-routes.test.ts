import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createToken, sampleEnvelope, sessionHeaders, startTestServer, withAdmin, type Session, type TestServer } from '../testing/test-server.ts';

describe('report ingestion', () => {
  let server: TestServer;
  let admin: Session;
  let ingest: string;
  let viewer: string;
  before(async () => {
    server = await startTestServer({ maxReportBytes: 64 * 1024, bodyLimitBytes: 4 * 1024 });
    admin = await withAdmin(server);
    ingest = (await createToken(server.app, admin, 'ingest')).token;
    viewer = (await createToken(server.app, admin, 'viewer')).token;
  });
  after(() => server.close());

  const post = (kind: string, payload: unknown, key: string | undefined, token = ingest) =>
    server.app.inject({
      method: 'POST',
      url: `/api/reports/${kind}`,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...(key ? { 'idempotency-key': key } : {}) },
      payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
    });

  it('stores a replayed delivery once and answers the replay with the first answer', async () => {
    const envelope = sampleEnvelope('scan', { images: [{ image: 'miner:latest' }] });
    const first = await post('scan', envelope, 'run-1');
    const second = await post('scan', envelope, 'run-1');
    assert.equal(first.statusCode, 201);
    assert.equal(second.statusCode, 201);
    assert.deepEqual(second.json(), first.json());
    assert.equal(first.headers['idempotent-replayed'], 'false');
    assert.equal(second.headers['idempotent-replayed'], 'true');
    const rows = await server.db.selectFrom('server_reports').select('id').where('idempotency_key', '=', 'run-1').execute();
    assert.equal(rows.length, 1);
  });

  it('stores concurrent deliveries of one report once', async () => {
    const answers = await Promise.all(Array.from({ length: 5 }, () => post('probe', sampleEnvelope('probe', { endpoints: [] }), 'burst')));
    assert.ok(answers.every((answer) => answer.statusCode === 201));
    assert.equal(new Set(answers.map((answer) => answer.json().id)).size, 1);
  });

  it('refuses a reused key with a different report as a conflict', async () => {
    await post('audit', sampleEnvelope('audit', { results: [1] }), 'k-conflict');
    const other = await post('audit', sampleEnvelope('audit', { results: [2] }), 'k-conflict');
    assert.equal(other.statusCode, 409);
    assert.match(other.json().error.message, /Idempotency-Key/);
  });

  it('requires the Idempotency-Key header and names it', async () => {
    const response = await post('scan', sampleEnvelope(), undefined);
    assert.equal(response.statusCode, 400);
    assert.match(response.json().error.message, /headers\.idempotency-key/);
  });

  it('refuses a body whose kind contradicts the URL', async () => {
    const response = await post('probe', sampleEnvelope('scan'), 'k-mismatch');
    assert.equal(response.statusCode, 400);
    assert.match(response.json().error.message, /body\.kind/);
  });

  it('answers 413 for a report over the bound, before storing anything', async () => {
    const response = await post('scan', sampleEnvelope('scan', { blob: 'x'.repeat(70 * 1024) }), 'k-big');
    assert.equal(response.statusCode, 413);
    assert.equal(response.json().error.code, 'limit-exceeded');
    assert.equal((await server.db.selectFrom('server_reports').select('id').where('idempotency_key', '=', 'k-big').execute()).length, 0);
  });

  it('answers 400 naming the problem for malformed and truncated JSON', async () => {
    for (const body of ['{"kind": "scan",', '{kind: scan}', 'null', '[]', '"text"']) {
      const response = await post('scan', body, 'k-garbage');
      assert.equal(response.statusCode, 400, body);
      assert.equal(response.json().error.code, 'invalid-input');
    }
    const truncated = await post('scan', '{"kind": "scan",', 'k-garbage');
    assert.match(truncated.json().error.message, /malformed JSON body: .*JSON/);
    const empty = await post('scan', '', 'k-garbage');
    assert.match(empty.json().error.message, /body is empty/);
  });

  it('refuses prototype-poisoning bodies', async () => {
    const response = await post('scan', '{"kind":"scan","__proto__":{"admin":true}}', 'k-proto');
    assert.equal(response.statusCode, 400);
  });

  it('refuses unknown envelope fields, naming them', async () => {
    const response = await post('scan', { ...sampleEnvelope(), submitter: 'me' }, 'k-unknown');
    assert.equal(response.statusCode, 400);
    assert.match(response.json().error.message, /submitter/);
  });

  it('lets viewers list and read reports, newest first, filtered by kind', async () => {
    const list = await server.app.inject({ method: 'GET', url: '/api/reports?kind=scan&limit=10', headers: { authorization: `Bearer ${viewer}` } });
    assert.equal(list.statusCode, 200);
    const reports = list.json().reports as { id: string; kind: string }[];
    assert.ok(reports.length >= 1 && reports.every((report) => report.kind === 'scan'));
    const one = await server.app.inject({ method: 'GET', url: `/api/reports/${reports[0]!.id}`, headers: { authorization: `Bearer ${viewer}` } });
    assert.deepEqual(one.json().report, { images: [{ image: 'miner:latest' }] });
    const badLimit = await server.app.inject({ method: 'GET', url: '/api/reports?limit=100000', headers: { authorization: `Bearer ${viewer}` } });
    assert.equal(badLimit.statusCode, 400);
    assert.match(badLimit.json().error.message, /querystring\.limit/);
  });

  it('does not let viewers or sessions without CSRF ingest', async () => {
    assert.equal((await post('scan', sampleEnvelope(), 'k-viewer', viewer)).statusCode, 403);
    const noCsrf = await server.app.inject({ method: 'POST', url: '/api/reports/scan', headers: { ...sessionHeaders(admin, false), 'idempotency-key': 'k-csrf' }, payload: sampleEnvelope() });
    assert.equal(noCsrf.statusCode, 403);
  });

  it('applies the smaller general body limit to other routes', async () => {
    const response = await server.app.inject({ method: 'POST', url: '/api/users', headers: sessionHeaders(admin), payload: { username: 'u', password: 'p'.repeat(5000), role: 'viewer' } });
    assert.equal(response.statusCode, 413);
  });
});
