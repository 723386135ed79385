import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { serverRoutes, type ServerRouteId } from './routes/index.ts';
import { adminPassword, createToken, login, sessionHeaders, startTestServer, withAdmin, type TestServer } from './testing/test-server.ts';

type Caller = 'adminSession' | 'viewerSession' | 'adminToken' | 'viewerToken' | 'ingestToken';
const everyone: Caller[] = ['adminSession', 'viewerSession', 'adminToken', 'viewerToken', 'ingestToken'];

/** The authorisation matrix, written out by hand: a new route fails the parity test until it is decided here. */
const allowed: Record<ServerRouteId, Caller[] | 'public'> = {
  healthz: 'public',
  readyz: 'public',
  openapi: 'public',
  setupStatus: 'public',
  setup: 'public',
  login: 'public',
  metrics: ['adminSession', 'adminToken', 'viewerToken', 'ingestToken'],
  logout: everyone,
  me: everyone,
  listUsers: ['adminSession', 'adminToken'],
  createUser: ['adminSession', 'adminToken'],
  setUserRole: ['adminSession', 'adminToken'],
  resetUserPassword: ['adminSession', 'adminToken'],
  disableUser: ['adminSession', 'adminToken'],
  enableUser: ['adminSession', 'adminToken'],
  deleteUser: ['adminSession', 'adminToken'],
  // Tokens reach the handler and are told they have no password (400), never 401/403.
  changeOwnPassword: everyone,
  listTokens: ['adminSession', 'adminToken'],
  createToken: ['adminSession', 'adminToken'],
  revokeToken: ['adminSession', 'adminToken'],
  ingestReport: ['adminSession', 'adminToken', 'ingestToken'],
  listReports: ['adminSession', 'viewerSession', 'adminToken', 'viewerToken'],
  getReport: ['adminSession', 'viewerSession', 'adminToken', 'viewerToken'],
  getReportView: ['adminSession', 'viewerSession', 'adminToken', 'viewerToken'],
  joinTokenCreate: ['adminSession', 'adminToken'],
  joinTokenList: ['adminSession', 'adminToken'],
  joinTokenRevoke: ['adminSession', 'adminToken'],
  agentEnrol: 'public',
  // Only an enrolled agent's own credential: no user or token, not even an admin's (src/server/routes/agent-routes.test.ts).
  agentBatch: [],
  agentSync: [],
  agentList: ['adminSession', 'adminToken'],
  agentRevoke: ['adminSession', 'adminToken'],
  overview: ['adminSession', 'viewerSession', 'adminToken', 'viewerToken'],
  listNodes: ['adminSession', 'viewerSession', 'adminToken', 'viewerToken'],
  listEntities: ['adminSession', 'viewerSession', 'adminToken', 'viewerToken'],
  getEntity: ['adminSession', 'viewerSession', 'adminToken', 'viewerToken'],
  listProfiles: ['adminSession', 'viewerSession', 'adminToken', 'viewerToken'],
  getProfile: ['adminSession', 'viewerSession', 'adminToken', 'viewerToken'],
  approveProfile: ['adminSession', 'adminToken'],
  relearnProfile: ['adminSession', 'adminToken'],
  setProfileMode: ['adminSession', 'adminToken'],
  listAlerts: ['adminSession', 'viewerSession', 'adminToken', 'viewerToken'],
};

function concreteUrl(url: string): string {
  return url.replace(':id', '00000000-0000-4000-8000-000000000000').replace(':kind', 'scan').replace(':agentId', 'agent-1').replace(':entityId', 'entity-1');
}

describe('every route, every role', () => {
  let server: TestServer;
  let headersOf: (caller: Caller) => Promise<Record<string, string>>;
  before(async () => {
    server = await startTestServer({ loginAttemptsPerIp: 1_000 });
    const admin = await withAdmin(server);
    await server.app.inject({ method: 'POST', url: '/api/users', headers: sessionHeaders(admin), payload: { username: 'vera', password: adminPassword, role: 'viewer' } });
    const tokens = {
      adminToken: (await createToken(server.app, admin, 'admin')).token,
      viewerToken: (await createToken(server.app, admin, 'viewer')).token,
      ingestToken: (await createToken(server.app, admin, 'ingest')).token,
    };
    // A fresh session per request: logout must not end the session the next check uses.
    headersOf = async (caller) => {
      if (caller === 'adminSession') return sessionHeaders(await login(server.app, 'admin', adminPassword));
      if (caller === 'viewerSession') return sessionHeaders(await login(server.app, 'vera', adminPassword));
      return { authorization: `Bearer ${tokens[caller]}` };
    };
  });
  after(() => server.close());

  it('has a decision for every route', () => {
    assert.deepEqual(Object.keys(allowed).sort(), Object.keys(serverRoutes).sort());
  });

  for (const [id, route] of Object.entries(serverRoutes)) {
    it(`${route.method} ${route.url} lets in exactly whom it should`, async () => {
      const expected = allowed[id as ServerRouteId];
      const send = (headers: Record<string, string>) =>
        server.app.inject({ method: route.method, url: concreteUrl(route.url), headers, ...(route.method === 'POST' ? { payload: {} } : {}) });
      const anonymous = await send({});
      if (expected === 'public') {
        assert.ok(![401, 403].includes(anonymous.statusCode), `${anonymous.statusCode} ${anonymous.body}`);
        return;
      }
      assert.equal(anonymous.statusCode, 401, anonymous.body);
      for (const caller of everyone) {
        const response = await send(await headersOf(caller));
        if (expected.includes(caller)) assert.ok(![401, 403].includes(response.statusCode), `${caller}: ${response.statusCode} ${response.body}`);
        else assert.equal(response.statusCode, 403, `${caller}: ${response.body}`);
      }
    });
  }
});

describe('the HTTP surface', () => {
  let server: TestServer;
  before(async () => (server = await startTestServer()));
  after(() => server.close());

  it('lists every route in the OpenAPI document, with the request schemas that validate it', async () => {
    const response = await server.app.inject({ method: 'GET', url: '/openapi.json' });
    assert.equal(response.statusCode, 200);
    const doc = response.json();
    assert.match(doc.openapi, /^3\./);
    for (const route of Object.values(serverRoutes)) {
      const path = route.url.replace(/:(\w+)/g, '{$1}');
      assert.ok(doc.paths[path]?.[route.method.toLowerCase()], `${route.method} ${path} is missing`);
    }
    const login = doc.paths['/api/login'].post.requestBody.content['application/json'].schema;
    assert.deepEqual(Object.keys(login.properties).sort(), ['password', 'username']);
    assert.equal(login.additionalProperties, false);
    assert.ok(doc.paths['/api/reports/{kind}'].post.parameters.some((parameter: { name: string }) => parameter.name === 'idempotency-key'));
  });

  it('answers liveness and readiness without credentials', async () => {
    assert.deepEqual((await server.app.inject({ method: 'GET', url: '/healthz' })).json(), { status: 'ok' });
    assert.deepEqual((await server.app.inject({ method: 'GET', url: '/readyz' })).json(), { status: 'ready' });
  });

  it('reports not ready when the store is gone', async () => {
    const other = await startTestServer();
    await other.db.destroy();
    const response = await other.app.inject({ method: 'GET', url: '/readyz' });
    assert.equal(response.statusCode, 503);
    assert.equal(response.json().error.code, 'unreachable');
    await other.app.close();
    await other.close().catch(() => undefined);
  });

  it('sends helmet security headers', async () => {
    const response = await server.app.inject({ method: 'GET', url: '/healthz' });
    assert.equal(response.headers['x-content-type-options'], 'nosniff');
    assert.ok(response.headers['content-security-policy']);
    assert.ok(response.headers['strict-transport-security']);
  });

  it('normalises unknown routes and unsupported content types to the error envelope', async () => {
    const missing = await server.app.inject({ method: 'GET', url: '/api/nothing?x=1' });
    assert.equal(missing.statusCode, 404);
    assert.deepEqual(missing.json(), { error: { code: 'not-found', message: 'no route GET /api/nothing' } });
    const text = await server.app.inject({ method: 'POST', url: '/api/login', headers: { 'content-type': 'text/plain' }, payload: 'admin:admin' });
    assert.equal(text.statusCode, 415);
    assert.equal(text.json().error.code, 'unsupported');
  });

  it('serves Prometheus metrics to token holders, counting requests by route', async () => {
    const admin = await withAdmin(server);
    const { token } = await createToken(server.app, admin, 'ingest', 'prometheus');
    const response = await server.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${token}` } });
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /^text\/plain/);
    assert.match(response.body, /nomine_server_http_requests_total\{method="GET",route="\/healthz",status="200"\} \d+/);
  });
});
