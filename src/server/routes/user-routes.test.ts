import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { adminPassword, createToken, login, sessionHeaders, startTestServer, withAdmin, type Session, type TestServer } from '../testing/test-server.ts';

const viewerPassword = 'viewer pass phrase 1';
const nobody = '00000000-0000-4000-8000-000000000000';

async function createUser(server: TestServer, admin: Session, username: string, role: 'admin' | 'viewer', password = viewerPassword): Promise<string> {
  const response = await server.app.inject({ method: 'POST', url: '/api/users', headers: sessionHeaders(admin), payload: { username, password, role } });
  assert.equal(response.statusCode, 201, response.body);
  return response.json().id;
}

function me(server: TestServer, session: Session) {
  return server.app.inject({ method: 'GET', url: '/api/me', headers: sessionHeaders(session, false) });
}

async function auditRows(server: TestServer, action?: string) {
  let query = server.db.selectFrom('server_audit_log').selectAll().orderBy('at').orderBy('id');
  if (action) query = query.where('action', '=', action);
  return (await query.execute()).map((row) => ({ ...row, detail: row.detail === null ? null : JSON.parse(row.detail) }));
}

describe('user management: who may do it', () => {
  let server: TestServer;
  let admin: Session;
  let viewer: Session;
  let targetId: string;
  let tokens: { admin: string; viewer: string; ingest: string };
  before(async () => {
    server = await startTestServer({ loginAttemptsPerIp: 10_000 });
    admin = await withAdmin(server);
    await createUser(server, admin, 'vera', 'viewer');
    targetId = await createUser(server, admin, 'tom', 'viewer');
    viewer = await login(server.app, 'vera', viewerPassword);
    tokens = {
      admin: (await createToken(server.app, admin, 'admin')).token,
      viewer: (await createToken(server.app, admin, 'viewer')).token,
      ingest: (await createToken(server.app, admin, 'ingest')).token,
    };
  });
  after(() => server.close());

  const adminOnly = () => [
    { method: 'POST' as const, url: `/api/users/${targetId}/role`, payload: { role: 'viewer' } },
    { method: 'POST' as const, url: `/api/users/${targetId}/password`, payload: { password: 'a brand new password' } },
    { method: 'POST' as const, url: `/api/users/${targetId}/disable` },
    { method: 'POST' as const, url: `/api/users/${targetId}/enable` },
    { method: 'DELETE' as const, url: `/api/users/${targetId}` },
  ];

  it('refuses anonymous callers with 401 and viewers, viewer tokens and ingest tokens with 403', async () => {
    for (const request of adminOnly()) {
      assert.equal((await server.app.inject(request)).statusCode, 401, `${request.method} ${request.url}`);
      for (const headers of [sessionHeaders(viewer), { authorization: `Bearer ${tokens.viewer}` }, { authorization: `Bearer ${tokens.ingest}` }]) {
        const response = await server.app.inject({ ...request, headers });
        assert.equal(response.statusCode, 403, `${request.method} ${request.url}: ${response.body}`);
        assert.match(response.json().error.message, /needs the admin access level/);
      }
    }
    const row = await server.db.selectFrom('server_users').selectAll().where('id', '=', targetId).executeTakeFirstOrThrow();
    assert.equal(row.disabled_at, null, 'nothing refused changed anything');
    assert.deepEqual(await auditRows(server, 'user.disable'), []);
  });

  it('records each user it creates in the audit trail, with who created them, and nothing for a refused one', async () => {
    const before = await auditRows(server, 'user.create');
    const id = await createUser(server, admin, 'ulla', 'viewer');
    const taken = await server.app.inject({ method: 'POST', url: '/api/users', headers: sessionHeaders(admin), payload: { username: 'ulla', password: viewerPassword, role: 'admin' } });
    assert.equal(taken.statusCode, 409, taken.body);
    const rows = await auditRows(server, 'user.create');
    assert.equal(rows.length, before.length + 1);
    const row = rows.find((candidate) => candidate.target === `user:${id}`)!;
    assert.ok(row, 'the new user has its row');
    assert.match(row.actor, /^user:/);
    assert.deepEqual(row.detail, { username: 'ulla', role: 'viewer' });
  });

  it('refuses an admin session without the CSRF token', async () => {
    for (const request of adminOnly()) {
      const response = await server.app.inject({ ...request, headers: sessionHeaders(admin, false) });
      assert.equal(response.statusCode, 403, `${request.method} ${request.url}`);
      assert.match(response.json().error.message, /X-CSRF-Token/);
    }
  });

  it('lets an admin session and an admin token in', async () => {
    const bySession = await server.app.inject({ method: 'POST', url: `/api/users/${targetId}/disable`, headers: sessionHeaders(admin) });
    assert.equal(bySession.statusCode, 200, bySession.body);
    const byToken = await server.app.inject({ method: 'POST', url: `/api/users/${targetId}/enable`, headers: { authorization: `Bearer ${tokens.admin}` } });
    assert.equal(byToken.statusCode, 200, byToken.body);
    const [disable, enable] = [...(await auditRows(server, 'user.disable')), ...(await auditRows(server, 'user.enable'))];
    assert.match(disable!.actor, /^user:/);
    assert.match(enable!.actor, /^token:/);
  });

  it('lets anyone with a session change their own password, but not a token or a stranger', async () => {
    assert.equal((await server.app.inject({ method: 'POST', url: '/api/me/password', payload: { currentPassword: 'x', newPassword: 'y' } })).statusCode, 401);
    for (const token of Object.values(tokens)) {
      const response = await server.app.inject({ method: 'POST', url: '/api/me/password', headers: { authorization: `Bearer ${token}` }, payload: { currentPassword: 'whatever it is', newPassword: 'another long one' } });
      assert.equal(response.statusCode, 400);
      assert.match(response.json().error.message, /API tokens have no password/);
    }
    const noCsrf = await server.app.inject({ method: 'POST', url: '/api/me/password', headers: sessionHeaders(viewer, false), payload: { currentPassword: viewerPassword, newPassword: 'vera has a new one' } });
    assert.equal(noCsrf.statusCode, 403);
  });
});

describe('changing roles', () => {
  let server: TestServer;
  let admin: Session;
  let adminId: string;
  before(async () => {
    server = await startTestServer({ loginAttemptsPerIp: 10_000 });
    admin = await withAdmin(server);
    adminId = (await me(server, admin)).json().id;
  });
  after(() => server.close());

  it('takes effect on the next request of an open session', async () => {
    const id = await createUser(server, admin, 'paula', 'viewer');
    const paula = await login(server.app, 'paula', viewerPassword);
    assert.equal((await server.app.inject({ method: 'GET', url: '/api/users', headers: sessionHeaders(paula) })).statusCode, 403);
    const promoted = await server.app.inject({ method: 'POST', url: `/api/users/${id}/role`, headers: sessionHeaders(admin), payload: { role: 'admin' } });
    assert.equal(promoted.statusCode, 200);
    assert.equal(promoted.json().role, 'admin');
    assert.equal((await server.app.inject({ method: 'GET', url: '/api/users', headers: sessionHeaders(paula) })).statusCode, 200);
    const [entry] = await auditRows(server, 'user.set-role');
    assert.deepEqual({ actor: entry!.actor, target: entry!.target, detail: entry!.detail }, { actor: `user:${adminId}`, target: `user:${id}`, detail: { username: 'paula', from: 'viewer', to: 'admin' } });
    const demoted = await server.app.inject({ method: 'POST', url: `/api/users/${id}/role`, headers: sessionHeaders(admin), payload: { role: 'viewer' } });
    assert.equal(demoted.json().role, 'viewer');
    assert.equal((await server.app.inject({ method: 'GET', url: '/api/users', headers: sessionHeaders(paula) })).statusCode, 403);
  });

  it('records nothing when the role is already the one asked for', async () => {
    const before = (await auditRows(server)).length;
    const same = await server.app.inject({ method: 'POST', url: `/api/users/${adminId}/role`, headers: sessionHeaders(admin), payload: { role: 'admin' } });
    assert.equal(same.statusCode, 200);
    assert.equal((await auditRows(server)).length, before);
  });
});

describe('never the last admin', () => {
  let server: TestServer;
  let admin: Session;
  let adminId: string;
  beforeEach(async () => {
    server = await startTestServer({ loginAttemptsPerIp: 10_000 });
    admin = await withAdmin(server);
    adminId = (await me(server, admin)).json().id;
  });
  const close = () => server.close();

  it('refuses to demote, disable or delete the only admin, saying why', async () => {
    try {
      for (const request of [
        { method: 'POST' as const, url: `/api/users/${adminId}/role`, payload: { role: 'viewer' } },
        { method: 'POST' as const, url: `/api/users/${adminId}/disable` },
        { method: 'DELETE' as const, url: `/api/users/${adminId}` },
      ]) {
        const response = await server.app.inject({ ...request, headers: sessionHeaders(admin) });
        assert.equal(response.statusCode, 409, `${request.url}: ${response.body}`);
        assert.match(response.json().error.message, /admin is the last enabled admin and cannot be .*: make another user admin first/);
      }
      const row = await server.db.selectFrom('server_users').selectAll().where('id', '=', adminId).executeTakeFirstOrThrow();
      assert.deepEqual({ role: row.role, disabled: row.disabled_at }, { role: 'admin', disabled: null });
      assert.equal((await me(server, admin)).statusCode, 200, 'the session is still there');
      assert.deepEqual(await auditRows(server), []);
    } finally {
      await close();
    }
  });

  it('does not count a disabled admin as the other admin', async () => {
    try {
      const otherId = await createUser(server, admin, 'ada', 'admin');
      assert.equal((await server.app.inject({ method: 'POST', url: `/api/users/${otherId}/disable`, headers: sessionHeaders(admin) })).statusCode, 200);
      const refused = await server.app.inject({ method: 'POST', url: `/api/users/${adminId}/role`, headers: sessionHeaders(admin), payload: { role: 'viewer' } });
      assert.equal(refused.statusCode, 409);
      assert.equal((await server.app.inject({ method: 'POST', url: `/api/users/${otherId}/enable`, headers: sessionHeaders(admin) })).statusCode, 200);
      const allowed = await server.app.inject({ method: 'POST', url: `/api/users/${adminId}/role`, headers: sessionHeaders(admin), payload: { role: 'viewer' } });
      assert.equal(allowed.statusCode, 200);
    } finally {
      await close();
    }
  });

  it('lets exactly one of two admins demoting each other at the same moment succeed', async () => {
    try {
      const otherId = await createUser(server, admin, 'ada', 'admin', adminPassword.toUpperCase());
      const ada = await login(server.app, 'ada', adminPassword.toUpperCase());
      const [first, second] = await Promise.all([
        server.app.inject({ method: 'POST', url: `/api/users/${otherId}/role`, headers: sessionHeaders(admin), payload: { role: 'viewer' } }),
        server.app.inject({ method: 'POST', url: `/api/users/${adminId}/role`, headers: sessionHeaders(ada), payload: { role: 'viewer' } }),
      ]);
      // The loser is refused either by the last-admin rule (409) or, when the winner committed before the loser's
      // request was authorised, because the loser is no longer an admin (403).
      const statuses = [first.statusCode, second.statusCode].sort();
      assert.equal(statuses[0], 200, `${first.body} ${second.body}`);
      assert.ok([403, 409].includes(statuses[1]!), `${first.body} ${second.body}`);
      const admins = await server.db.selectFrom('server_users').select('username').where('role', '=', 'admin').execute();
      assert.equal(admins.length, 1);
    } finally {
      await close();
    }
  });
});

describe('passwords, disabling and deleting end sessions', () => {
  let server: TestServer;
  let admin: Session;
  before(async () => {
    server = await startTestServer({ loginAttemptsPerIp: 10_000, loginFailuresPerUser: 3 });
    admin = await withAdmin(server);
  });
  after(() => server.close());

  it('ends every session of a user whose password an admin resets; only the new password works', async () => {
    const id = await createUser(server, admin, 'rita', 'viewer');
    const phone = await login(server.app, 'rita', viewerPassword);
    const laptop = await login(server.app, 'rita', viewerPassword);
    const reset = await server.app.inject({ method: 'POST', url: `/api/users/${id}/password`, headers: sessionHeaders(admin), payload: { password: 'a fresh one for her' } });
    assert.equal(reset.statusCode, 204, reset.body);
    assert.equal((await me(server, phone)).statusCode, 401);
    assert.equal((await me(server, laptop)).statusCode, 401);
    assert.equal((await server.app.inject({ method: 'POST', url: '/api/login', payload: { username: 'rita', password: viewerPassword } })).statusCode, 401);
    await login(server.app, 'rita', 'a fresh one for her');
    const [entry] = await auditRows(server, 'user.reset-password');
    assert.deepEqual(entry!.detail, { username: 'rita', sessionsEnded: 2 });
    assert.ok(!JSON.stringify(await auditRows(server)).includes('a fresh one for her'), 'no password in the trail');
  });

  it('disables a user: sessions end at once, login is refused, enabling lets them back in', async () => {
    const id = await createUser(server, admin, 'dan', 'viewer');
    const dan = await login(server.app, 'dan', viewerPassword);
    const disabled = await server.app.inject({ method: 'POST', url: `/api/users/${id}/disable`, headers: sessionHeaders(admin) });
    assert.equal(disabled.statusCode, 200);
    assert.equal(disabled.json().disabledAt, new Date(server.clock.now).toISOString());
    assert.equal((await me(server, dan)).statusCode, 401);
    const refused = await server.app.inject({ method: 'POST', url: '/api/login', payload: { username: 'dan', password: viewerPassword } });
    assert.equal(refused.statusCode, 403);
    assert.match(refused.json().error.message, /disabled: ask an admin/);
    const wrong = await server.app.inject({ method: 'POST', url: '/api/login', payload: { username: 'dan', password: 'not his password at all' } });
    assert.equal(wrong.statusCode, 401, 'a guesser learns nothing about the account');
    const listed = await server.app.inject({ method: 'GET', url: '/api/users', headers: sessionHeaders(admin) });
    assert.ok(listed.json().users.find((user: { username: string }) => user.username === 'dan').disabledAt);
    assert.equal((await server.app.inject({ method: 'POST', url: `/api/users/${id}/enable`, headers: sessionHeaders(admin) })).json().disabledAt, null);
    await login(server.app, 'dan', viewerPassword);
  });

  it('deletes a user: sessions end, the name is free again, the trail keeps who it was', async () => {
    const id = await createUser(server, admin, 'eve', 'viewer');
    const eve = await login(server.app, 'eve', viewerPassword);
    const deleted = await server.app.inject({ method: 'DELETE', url: `/api/users/${id}`, headers: sessionHeaders(admin) });
    assert.equal(deleted.statusCode, 204);
    assert.equal((await me(server, eve)).statusCode, 401);
    assert.equal((await server.app.inject({ method: 'POST', url: '/api/login', payload: { username: 'eve', password: viewerPassword } })).statusCode, 401);
    assert.equal((await server.app.inject({ method: 'DELETE', url: `/api/users/${id}`, headers: sessionHeaders(admin) })).statusCode, 404);
    assert.deepEqual((await server.db.selectFrom('server_sessions').select('user_id').where('user_id', '=', id).execute()).length, 0);
    const [entry] = await auditRows(server, 'user.delete');
    assert.deepEqual({ target: entry!.target, detail: entry!.detail }, { target: `user:${id}`, detail: { username: 'eve', role: 'viewer', sessionsEnded: 1 } });
    await createUser(server, admin, 'eve', 'viewer');
  });

  it('changes your own password with the current one, keeping this session and ending the others', async () => {
    await createUser(server, admin, 'olga', 'viewer');
    const here = await login(server.app, 'olga', viewerPassword);
    const elsewhere = await login(server.app, 'olga', viewerPassword);
    const changed = await server.app.inject({ method: 'POST', url: '/api/me/password', headers: sessionHeaders(here), payload: { currentPassword: viewerPassword, newPassword: 'she chose this one' } });
    assert.equal(changed.statusCode, 204, changed.body);
    assert.equal((await me(server, here)).statusCode, 200);
    assert.equal((await me(server, elsewhere)).statusCode, 401);
    await login(server.app, 'olga', 'she chose this one');
    const [entry] = await auditRows(server, 'user.change-password');
    assert.equal(entry!.actor, entry!.target);
    assert.deepEqual(entry!.detail, { username: 'olga', sessionsEnded: 1 });
  });

  it('refuses a wrong current password, and throttles guessing through an open session', async () => {
    await createUser(server, admin, 'gus', 'viewer');
    const gus = await login(server.app, 'gus', viewerPassword);
    for (let attempt = 0; attempt < 3; attempt++) {
      const wrong = await server.app.inject({ method: 'POST', url: '/api/me/password', headers: sessionHeaders(gus), payload: { currentPassword: `guess number ${attempt}`, newPassword: 'he wants this one' } });
      assert.equal(wrong.statusCode, 403);
      assert.match(wrong.json().error.message, /current password is wrong/);
    }
    const throttled = await server.app.inject({ method: 'POST', url: '/api/me/password', headers: sessionHeaders(gus), payload: { currentPassword: viewerPassword, newPassword: 'he wants this one' } });
    assert.equal(throttled.statusCode, 429);
    assert.ok(Number(throttled.headers['retry-after']) > 0);
    server.clock.now += 60_001;
    const again = await login(server.app, 'gus', viewerPassword, '10.9.9.9');
    const right = await server.app.inject({ method: 'POST', url: '/api/me/password', headers: sessionHeaders(again), payload: { currentPassword: viewerPassword, newPassword: 'he wants this one' } });
    assert.equal(right.statusCode, 204, right.body);
    admin = await login(server.app, 'admin', adminPassword, '10.0.0.9');
  });

  it('holds a new password to the policy, and refuses the current one again', async () => {
    await createUser(server, admin, 'hal', 'viewer');
    const hal = await login(server.app, 'hal', viewerPassword);
    const send = (newPassword: string) => server.app.inject({ method: 'POST', url: '/api/me/password', headers: sessionHeaders(hal), payload: { currentPassword: viewerPassword, newPassword } });
    assert.match((await send('short')).json().error.message, /at least 12 characters/);
    assert.match((await send('my name is hal, ok?')).json().error.message, /must not contain the username/);
    assert.match((await send(viewerPassword)).json().error.message, /must differ from the current one/);
    await login(server.app, 'hal', viewerPassword);
  });
});

describe('user management: hostile input', () => {
  let server: TestServer;
  let admin: Session;
  let id: string;
  before(async () => {
    server = await startTestServer({ loginAttemptsPerIp: 10_000 });
    admin = await withAdmin(server);
    id = await createUser(server, admin, 'ivan', 'viewer');
  });
  after(() => server.close());

  it('refuses malformed ids, roles outside the closed set, extra fields and wrong types, naming the field', async () => {
    const cases: { url: string; method?: 'POST' | 'DELETE'; payload?: unknown; status: number; message: RegExp }[] = [
      { url: '/api/users/..%2F..%2Fetc/role', payload: { role: 'admin' }, status: 400, message: /params\.id/ },
      { url: "/api/users/1' OR '1'='1/disable", status: 400, message: /params\.id/ },
      { url: `/api/users/${id}/role`, payload: { role: 'root' }, status: 400, message: /body\.role/ },
      { url: `/api/users/${id}/role`, payload: { role: 'admin', username: 'mallory' }, status: 400, message: /username/ },
      { url: `/api/users/${id}/role`, payload: { role: ['admin'] }, status: 400, message: /body\.role/ },
      { url: `/api/users/${id}/role`, payload: [{ role: 'admin' }], status: 400, message: /body/ },
      { url: `/api/users/${id}/password`, payload: { password: 12345678901234 }, status: 400, message: /body\.password/ },
      { url: `/api/users/${id}/password`, payload: { password: 'x'.repeat(1025) }, status: 400, message: /body\.password/ },
      { url: `/api/users/${id}/password`, payload: { password: 'short' }, status: 400, message: /at least 12 characters/ },
      { url: `/api/users/${id}/password`, payload: { password: 'ivan is my name ok' }, status: 400, message: /must not contain the username/ },
      { url: '/api/me/password', payload: { currentPassword: '', newPassword: 'a perfectly long one' }, status: 400, message: /body\.currentPassword/ },
      { url: '/api/me/password', payload: { newPassword: 'a perfectly long one' }, status: 400, message: /body\.currentPassword/ },
      { url: `/api/users/${nobody}/role`, payload: { role: 'admin' }, status: 404, message: /no user has this id/ },
      { url: `/api/users/${nobody}/password`, payload: { password: 'a perfectly long one' }, status: 404, message: /no user has this id/ },
      { url: `/api/users/${nobody}/disable`, status: 404, message: /no user has this id/ },
      { url: `/api/users/${nobody}`, method: 'DELETE', status: 404, message: /no user has this id/ },
    ];
    for (const testCase of cases) {
      const response = await server.app.inject({ method: testCase.method ?? 'POST', url: testCase.url, headers: sessionHeaders(admin), ...(testCase.payload !== undefined ? { payload: testCase.payload as object } : {}) });
      assert.equal(response.statusCode, testCase.status, `${testCase.url} ${JSON.stringify(testCase.payload)}: ${response.body}`);
      assert.match(response.json().error.message, testCase.message, testCase.url);
    }
    const row = await server.db.selectFrom('server_users').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    assert.deepEqual({ role: row.role, disabled: row.disabled_at }, { role: 'viewer', disabled: null });
    assert.deepEqual(await auditRows(server, 'user.set-role'), []);
  });

  it('refuses bodies that are not JSON or too large before any work', async () => {
    const text = await server.app.inject({ method: 'POST', url: `/api/users/${id}/role`, headers: { ...sessionHeaders(admin), 'content-type': 'text/plain' }, payload: 'role=admin' });
    assert.equal(text.statusCode, 415);
    const broken = await server.app.inject({ method: 'POST', url: `/api/users/${id}/role`, headers: { ...sessionHeaders(admin), 'content-type': 'application/json' }, payload: '{"role":' });
    assert.equal(broken.statusCode, 400);
    const huge = await server.app.inject({ method: 'POST', url: `/api/users/${id}/password`, headers: { ...sessionHeaders(admin), 'content-type': 'application/json' }, payload: JSON.stringify({ password: 'x'.repeat(2 * 1024 * 1024) }) });
    assert.equal(huge.statusCode, 413);
  });
});
