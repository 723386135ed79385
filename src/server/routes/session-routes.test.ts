import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { adminPassword, cookieOf, login, sessionHeaders, startTestServer, withAdmin, type TestServer } from '../testing/test-server.ts';

describe('first-admin setup', () => {
  let server: TestServer;
  before(async () => (server = await startTestServer({ setupLinkTtlMs: 60_000 })));
  after(() => server.close());

  it('refuses logins before setup, saying how to set up', async () => {
    const response = await server.app.inject({ method: 'POST', url: '/api/login', payload: { username: 'admin', password: adminPassword } });
    assert.equal(response.statusCode, 409);
    assert.match(response.json().error.message, /setup link/);
    assert.deepEqual((await server.app.inject({ method: 'GET', url: '/api/setup' })).json(), { setupNeeded: true });
  });

  it('refuses a wrong token and a weak password without using up the link', async () => {
    const wrong = await server.app.inject({ method: 'POST', url: '/api/setup', payload: { token: 'guess', username: 'root', password: adminPassword } });
    assert.equal(wrong.statusCode, 401);
    const weak = await server.app.inject({ method: 'POST', url: '/api/setup', payload: { token: server.setupToken, username: 'root', password: 'short' } });
    assert.equal(weak.statusCode, 400);
    assert.match(weak.json().error.message, /at least 12 characters/);
  });

  it('creates the first admin once; the link is then spent', async () => {
    const first = await server.app.inject({ method: 'POST', url: '/api/setup', payload: { token: server.setupToken, username: 'root', password: adminPassword } });
    assert.equal(first.statusCode, 201);
    assert.equal(first.json().role, 'admin');
    const second = await server.app.inject({ method: 'POST', url: '/api/setup', payload: { token: server.setupToken, username: 'other', password: adminPassword } });
    assert.equal(second.statusCode, 409);
    const rows = await server.db.selectFrom('server_users').select('username').execute();
    assert.deepEqual(rows, [{ username: 'root' }]);
    const stored = await server.db.selectFrom('server_setup_tokens').selectAll().execute();
    assert.ok(stored.every((row) => row.token_hash !== server.setupToken && row.used_at !== null));
  });
});

describe('setup link expiry', () => {
  it('refuses an expired setup token', async () => {
    const server = await startTestServer({ setupLinkTtlMs: 60_000 });
    try {
      server.clock.now += 60_001;
      const response = await server.app.inject({ method: 'POST', url: '/api/setup', payload: { token: server.setupToken, username: 'root', password: adminPassword } });
      assert.equal(response.statusCode, 401);
      assert.match(response.json().error.message, /expired/);
    } finally {
      await server.close();
    }
  });
});

describe('login and sessions', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ loginAttemptsPerIp: 5, loginFailuresPerUser: 3, loginWindowMs: 60_000, sessionIdleMs: 10_000, sessionAbsoluteMs: 30_000 });
    await withAdmin(server);
  });
  after(() => server.close());

  it('sets an HttpOnly, SameSite=Strict session cookie, not Secure without TLS', async () => {
    const response = await server.app.inject({ method: 'POST', url: '/api/login', payload: { username: 'admin', password: adminPassword }, remoteAddress: '10.1.0.1' });
    assert.equal(response.statusCode, 200);
    const cookie = String(response.headers['set-cookie']);
    assert.match(cookie, /^nomine_session=/);
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);
    assert.doesNotMatch(cookie, /Secure/);
    const me = await server.app.inject({ method: 'GET', url: '/api/me', headers: { cookie: cookieOf(response) } });
    assert.equal(me.json().name, 'admin');
    assert.equal(me.json().csrfToken, response.json().csrfToken);
  });

  it('answers a wrong password with 401, then locks the user out with 429 and Retry-After', async () => {
    for (let i = 0; i < 3; i += 1) {
      const wrong = await server.app.inject({ method: 'POST', url: '/api/login', payload: { username: 'admin', password: 'wrong password!' }, remoteAddress: `10.2.0.${i}` });
      assert.equal(wrong.statusCode, 401);
      assert.equal(wrong.json().error.message, 'login: wrong username or password');
    }
    // Even the right password from a fresh address waits: the lockout is per user.
    const locked = await server.app.inject({ method: 'POST', url: '/api/login', payload: { username: 'ADMIN', password: adminPassword }, remoteAddress: '10.2.1.1' });
    assert.equal(locked.statusCode, 429);
    assert.equal(locked.json().error.code, 'limit-exceeded');
    assert.ok(Number(locked.headers['retry-after']) > 0);
    server.clock.now += 60_000;
    await login(server.app, 'admin', adminPassword, '10.2.1.1');
  });

  it('limits attempts per client address whatever the usernames', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i += 1) {
      const response = await server.app.inject({ method: 'POST', url: '/api/login', payload: { username: `nobody${i}`, password: 'whatever it is' }, remoteAddress: '10.3.0.1' });
      statuses.push(response.statusCode);
    }
    assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429]);
  });

  it('ends sessions after the idle period and after the absolute lifetime', async () => {
    const session = await login(server.app, 'admin', adminPassword, '10.4.0.1');
    server.clock.now += 9_000;
    assert.equal((await server.app.inject({ method: 'GET', url: '/api/me', headers: sessionHeaders(session) })).statusCode, 200);
    server.clock.now += 10_000;
    const idle = await server.app.inject({ method: 'GET', url: '/api/me', headers: sessionHeaders(session) });
    assert.equal(idle.statusCode, 401);
    assert.match(idle.json().error.message, /expired/);

    const busy = await login(server.app, 'admin', adminPassword, '10.4.0.2');
    for (let elapsed = 0; elapsed < 30_000; elapsed += 8_000) {
      assert.equal((await server.app.inject({ method: 'GET', url: '/api/me', headers: sessionHeaders(busy) })).statusCode, 200);
      server.clock.now += 8_000;
    }
    assert.equal((await server.app.inject({ method: 'GET', url: '/api/me', headers: sessionHeaders(busy) })).statusCode, 401);
  });

  it('logs out: the cookie no longer works', async () => {
    const session = await login(server.app, 'admin', adminPassword, '10.5.0.1');
    const out = await server.app.inject({ method: 'POST', url: '/api/logout', headers: sessionHeaders(session) });
    assert.equal(out.statusCode, 204);
    assert.equal((await server.app.inject({ method: 'GET', url: '/api/me', headers: sessionHeaders(session) })).statusCode, 401);
  });

  it('refuses a cookie-authenticated write without the CSRF token, or with another session\'s', async () => {
    const session = await login(server.app, 'admin', adminPassword, '10.6.0.1');
    const other = await login(server.app, 'admin', adminPassword, '10.6.0.2');
    const payload = { username: 'carol', password: adminPassword, role: 'viewer' };
    const missing = await server.app.inject({ method: 'POST', url: '/api/users', headers: sessionHeaders(session, false), payload });
    assert.equal(missing.statusCode, 403);
    assert.match(missing.json().error.message, /X-CSRF-Token/);
    const foreign = await server.app.inject({ method: 'POST', url: '/api/users', headers: { cookie: session.cookie, 'x-csrf-token': other.csrfToken }, payload });
    assert.equal(foreign.statusCode, 403);
    const logout = await server.app.inject({ method: 'POST', url: '/api/logout', headers: sessionHeaders(session, false) });
    assert.equal(logout.statusCode, 403);
    assert.equal((await server.db.selectFrom('server_users').select('id').where('username', '=', 'carol').execute()).length, 0);
    const allowed = await server.app.inject({ method: 'POST', url: '/api/users', headers: sessionHeaders(session), payload });
    assert.equal(allowed.statusCode, 201);
  });

  it('refuses garbage cookies and malformed Authorization headers with 401', async () => {
    assert.equal((await server.app.inject({ method: 'GET', url: '/api/me', headers: { cookie: 'nomine_session=garbage' } })).statusCode, 401);
    assert.equal((await server.app.inject({ method: 'GET', url: '/api/me', headers: { authorization: 'Basic YWRtaW46YWRtaW4=' } })).statusCode, 401);
    assert.equal((await server.app.inject({ method: 'GET', url: '/api/me', headers: { authorization: 'Bearer nmn_forged' } })).statusCode, 401);
  });
});
