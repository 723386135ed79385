import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { adminPassword, createToken, login, sessionHeaders, startTestServer, withAdmin, type Session, type TestServer } from '../testing/test-server.ts';

describe('API tokens', () => {
  let server: TestServer;
  let admin: Session;
  before(async () => {
    server = await startTestServer();
    admin = await withAdmin(server);
  });
  after(() => server.close());

  it('shows the secret once and keeps only its hash, even in the database file', async () => {
    const { token } = await createToken(server.app, admin, 'viewer', 'grafana');
    assert.match(token, /^nmn_[A-Za-z0-9_-]{43}$/);
    const listed = await server.app.inject({ method: 'GET', url: '/api/tokens', headers: sessionHeaders(admin) });
    assert.ok(!listed.body.includes(token));
    assert.equal(listed.json().tokens[0].name, 'grafana');
    const me = await server.app.inject({ method: 'GET', url: '/api/me', headers: sessionHeaders(admin, false) });
    assert.equal(listed.json().tokens[0].createdBy, `user:${me.json().id}`, 'who created it, so a disabled user\'s tokens can be found');
    const rows = await server.db.selectFrom('server_api_tokens').selectAll().execute();
    assert.ok(rows.every((row) => !Object.values(row).includes(token)));
    await server.db.destroy().catch(() => undefined);
    const files = await Promise.all(['nomine.db', 'nomine.db-wal'].map((name) => readFile(join(server.home, name)).catch(() => Buffer.alloc(0))));
    assert.ok(files.every((bytes) => !bytes.includes(token) && !bytes.includes(token.slice(4))));
  });
});

describe('API token lifecycle', () => {
  let server: TestServer;
  let admin: Session;
  before(async () => {
    server = await startTestServer();
    admin = await withAdmin(server);
  });
  after(() => server.close());

  it('authenticates a Bearer token with its role', async () => {
    const { token } = await createToken(server.app, admin, 'viewer');
    const me = await server.app.inject({ method: 'GET', url: '/api/me', headers: { authorization: `Bearer ${token}` } });
    assert.equal(me.statusCode, 200);
    assert.deepEqual({ kind: me.json().kind, role: me.json().role }, { kind: 'token', role: 'viewer' });
  });

  it('refuses a revoked token with 401 saying so', async () => {
    const { token, id } = await createToken(server.app, admin, 'ingest', 'ci');
    const revoked = await server.app.inject({ method: 'DELETE', url: `/api/tokens/${id}`, headers: sessionHeaders(admin) });
    assert.equal(revoked.statusCode, 200);
    assert.ok(revoked.json().revokedAt);
    const refused = await server.app.inject({ method: 'GET', url: '/api/me', headers: { authorization: `Bearer ${token}` } });
    assert.equal(refused.statusCode, 401);
    assert.match(refused.json().error.message, /"ci" was revoked/);
  });

  it('refuses an expired token with 401 saying when it expired', async () => {
    const created = await server.app.inject({ method: 'POST', url: '/api/tokens', headers: sessionHeaders(admin), payload: { name: 'short', role: 'viewer', expiresInDays: 1 } });
    const { token } = created.json();
    server.clock.now += 86_400_000;
    const refused = await server.app.inject({ method: 'GET', url: '/api/me', headers: { authorization: `Bearer ${token}` } });
    assert.equal(refused.statusCode, 401);
    assert.match(refused.json().error.message, /"short" expired at /);
    // The admin's session ended with the day that passed.
    admin = await login(server.app, 'admin', adminPassword, '10.0.0.2');
  });

  it('needs no CSRF token: a browser never sends a Bearer token by itself', async () => {
    const { token } = await createToken(server.app, admin, 'admin', 'automation');
    const response = await server.app.inject({ method: 'POST', url: '/api/users', headers: { authorization: `Bearer ${token}` }, payload: { username: 'dave', password: 'a strong password', role: 'viewer' } });
    assert.equal(response.statusCode, 201);
  });

  it('refuses a token role outside the closed set and a revoke of an unknown id', async () => {
    const role = await server.app.inject({ method: 'POST', url: '/api/tokens', headers: sessionHeaders(admin), payload: { name: 'x', role: 'root' } });
    assert.equal(role.statusCode, 400);
    assert.match(role.json().error.message, /body\.role/);
    const unknown = await server.app.inject({ method: 'DELETE', url: '/api/tokens/00000000-0000-4000-8000-000000000000', headers: sessionHeaders(admin) });
    assert.equal(unknown.statusCode, 404);
    const garbage = await server.app.inject({ method: 'DELETE', url: '/api/tokens/..%2F..%2Fetc', headers: sessionHeaders(admin) });
    assert.equal(garbage.statusCode, 400);
  });
});
