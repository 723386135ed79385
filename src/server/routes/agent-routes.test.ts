import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { addSample } from '../../profile/cpu-envelope.ts';
import { emptyAllowances, type Profile } from '../../profile/profile.ts';
import { profileIdFor } from '../../profile/workload-key.ts';
import { relearnProfile, setProfileMode } from '../console/profile-actions.ts';
import { syncProfiles } from '../fleet/sync-profiles.ts';
import { createToken, sessionHeaders, startTestServer, withAdmin, type Session, type TestServer } from '../testing/test-server.ts';

const key = { imageDigest: 'sha256:1111', workload: 'k8s:shop/Deployment/api' };
const profileId = profileIdFor(key);

async function joinToken(app: FastifyInstance, admin: Session, body: Record<string, unknown> = {}): Promise<{ token: string; id: string }> {
  const response = await app.inject({ method: 'POST', url: '/api/join-tokens', headers: sessionHeaders(admin), payload: { name: 'nodes', ttlSeconds: 3600, ...body } });
  assert.equal(response.statusCode, 201, response.body);
  return { token: response.json().token, id: response.json().details.id };
}

async function enrol(app: FastifyInstance, token: string, nodeName = 'node-1', ip = '10.1.0.1') {
  return app.inject({ method: 'POST', url: '/api/agents/enrol', payload: { joinToken: token, nodeName, version: '0.1.0' }, remoteAddress: ip });
}

async function enrolled(server: TestServer, admin: Session, nodeName = 'node-1'): Promise<{ agentId: string; credential: string; headers: Record<string, string> }> {
  const { token } = await joinToken(server.app, admin);
  const response = await enrol(server.app, token, nodeName);
  assert.equal(response.statusCode, 201, response.body);
  const { agentId, credential } = response.json();
  return { agentId, credential, headers: { authorization: `Bearer ${credential}` } };
}

function alert(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: '6f1c1f0e-7a7e-4c55-9d0e-1f2a3b4c5d6e',
    dedupeKey: 'mining-pool|wl-1|198.51.100.7:3333',
    rule: 'mining-pool',
    severity: 'critical',
    message: 'api (container api-1) connected to a mining pool.',
    entity: { id: 'c0ffee', name: 'api-1' },
    workload: key.workload,
    profileId,
    seen: 'connect 198.51.100.7:3333',
    allowed: 'no mining pool',
    mode: 'prevent',
    phase: 'enforcing',
    action: { taken: 'killed', reason: 'process 42 killed' },
    firstAt: 1_000,
    lastAt: 2_000,
    count: 1,
    ...overrides,
  };
}

function profile(overrides: Partial<Profile> = {}, exe = '/bin/api', cpuSamples: number[] = []): Profile {
  return {
    id: profileId,
    key,
    image: 'shop/api:1.0',
    mode: 'alert',
    phase: 'learning',
    learningStartedAt: 1_000,
    lastNewBehaviourAt: 1_000,
    selector: { app: 'api' },
    allow: { ...emptyAllowances(), processes: [{ exe, sha256: [], parents: [], source: 'learned', firstSeen: 1_000 }], cpu: cpuSamples.reduce((cpu, cores) => addSample(cpu, cores), emptyAllowances().cpu) },
    revision: 2,
    ...overrides,
  };
}

function batch(batchId: string, body: Record<string, unknown> = {}): Record<string, unknown> {
  return { batchId, sentAt: 5_000, ...body };
}

describe('join tokens and enrolment', () => {
  let server: TestServer;
  let admin: Session;
  before(async () => {
    server = await startTestServer();
    admin = await withAdmin(server);
  });
  after(() => server.close());

  it('shows a join token once and keeps only its digest', async () => {
    const { token, id } = await joinToken(server.app, admin, { name: 'rack-1', maxUses: 3 });
    assert.match(token, /^nmnj_[A-Za-z0-9_-]{43}$/);
    const listed = await server.app.inject({ method: 'GET', url: '/api/join-tokens', headers: sessionHeaders(admin) });
    assert.ok(!listed.body.includes(token));
    const view = listed.json().joinTokens.find((entry: { id: string }) => entry.id === id);
    assert.deepEqual([view.name, view.maxUses, view.uses, view.revokedAt], ['rack-1', 3, 0, null]);
    const rows = await server.db.selectFrom('server_join_tokens').selectAll().execute();
    assert.ok(rows.every((row) => !Object.values(row).includes(token)));
  });

  it('enrols an agent with its own nmna_ credential, stored as a digest, and writes the audit log', async () => {
    const { token, id } = await joinToken(server.app, admin);
    const response = await enrol(server.app, token, 'worker-7');
    assert.equal(response.statusCode, 201, response.body);
    const { agentId, credential } = response.json();
    assert.match(credential, /^nmna_[A-Za-z0-9_-]{43}$/);
    const row = await server.db.selectFrom('server_agents').selectAll().where('id', '=', agentId).executeTakeFirstOrThrow();
    assert.deepEqual([row.node_name, row.join_token_id], ['worker-7', id]);
    assert.ok(!Object.values(row).includes(credential));
    const audit = await server.db.selectFrom('server_audit_log').selectAll().where('target', '=', `agent:${agentId}`).execute();
    assert.deepEqual(audit.map((entry) => entry.action), ['agent.enrol']);
    assert.equal(JSON.parse(audit[0]!.detail!).nodeName, 'worker-7');
    const agents = await server.app.inject({ method: 'GET', url: '/api/agents', headers: sessionHeaders(admin) });
    assert.ok(agents.json().agents.some((agent: { id: string; nodeName: string }) => agent.id === agentId && agent.nodeName === 'worker-7'));
    assert.ok(!agents.body.includes(credential));
  });

  it('refuses unknown, expired, revoked and used-up join tokens, each saying why', async () => {
    const unknown = await enrol(server.app, `nmnj_${'A'.repeat(43)}`, 'n', '10.9.0.1');
    assert.equal(unknown.statusCode, 401);
    assert.match(unknown.json().error.message, /join token is unknown/);

    const once = await joinToken(server.app, admin, { name: 'single', maxUses: 1 });
    assert.equal((await enrol(server.app, once.token, 'a', '10.9.0.2')).statusCode, 201);
    const usedUp = await enrol(server.app, once.token, 'b', '10.9.0.2');
    assert.equal(usedUp.statusCode, 403);
    assert.match(usedUp.json().error.message, /"single" has been used for all 1 enrolments/);

    const revoked = await joinToken(server.app, admin, { name: 'gone' });
    const revocation = await server.app.inject({ method: 'DELETE', url: `/api/join-tokens/${revoked.id}`, headers: sessionHeaders(admin) });
    assert.ok(revocation.json().revokedAt);
    const refused = await enrol(server.app, revoked.token, 'c', '10.9.0.3');
    assert.equal(refused.statusCode, 403);
    assert.match(refused.json().error.message, /"gone" was revoked/);

    const short = await joinToken(server.app, admin, { name: 'short', ttlSeconds: 60 });
    server.clock.now += 61_000;
    const expired = await enrol(server.app, short.token, 'd', '10.9.0.4');
    assert.equal(expired.statusCode, 401);
    assert.match(expired.json().error.message, /"short" expired at/);
  });

  it('refuses malformed enrolments with 400 naming the field', async () => {
    const response = await server.app.inject({ method: 'POST', url: '/api/agents/enrol', payload: { joinToken: 'x'.repeat(20), nodeName: 'bad name!', version: '1', extra: true } });
    assert.equal(response.statusCode, 400);
    assert.match(response.json().error.message, /nodeName/);
  });

  it('throttles an address after repeated failed enrolments, with Retry-After', async () => {
    const guesses = [];
    for (let attempt = 0; attempt < 6; attempt++) guesses.push((await enrol(server.app, `nmnj_${String(attempt).repeat(43)}`, 'g', '10.66.0.1')).statusCode);
    assert.deepEqual(guesses, [401, 401, 401, 401, 401, 429]);
    const { token } = await joinToken(server.app, admin);
    const blocked = await enrol(server.app, token, 'g', '10.66.0.1');
    assert.equal(blocked.statusCode, 429);
    assert.ok(Number(blocked.headers['retry-after']) > 0);
    assert.equal((await enrol(server.app, token, 'h', '10.66.0.2')).statusCode, 201, 'another address is not affected');
  });
});

describe('agent batches', () => {
  let server: TestServer;
  let admin: Session;
  let agent: Awaited<ReturnType<typeof enrolled>>;
  before(async () => {
    server = await startTestServer({ maxAgentBatchBytes: 256 * 1024 });
    admin = await withAdmin(server);
    agent = await enrolled(server, admin);
  });
  after(() => server.close());

  const post = (body: unknown, headers = agent.headers) => server.app.inject({ method: 'POST', url: '/api/agents/batches', headers, payload: body as Record<string, unknown> });

  it('stores entities, event summaries and alerts, and answers what it accepted', async () => {
    const response = await post(
      batch('b-1', {
        entities: [{ id: 'c0ffee', kind: 'container', name: 'api-1', image: 'shop/api:1.0', workload: key.workload, profileId, document: { labels: { app: 'api' } } }],
        eventSummaries: [{ entityId: 'c0ffee', windowStart: 60_000, windowEnd: 61_000, counts: { exec: 3, connect: 10 } }],
        alerts: [alert()],
        status: { sensor: 'procfs' },
      }),
    );
    assert.equal(response.statusCode, 200, response.body);
    assert.deepEqual(response.json(), { batchId: 'b-1', replayed: false, accepted: { entities: 1, eventSummaries: 1, profiles: 0, alerts: 1 } });
    const entity = await server.db.selectFrom('server_entities').selectAll().executeTakeFirstOrThrow();
    assert.deepEqual([entity.agent_id, entity.name, entity.profile_id], [agent.agentId, 'api-1', profileId]);
    const summary = await server.db.selectFrom('server_event_summaries').selectAll().executeTakeFirstOrThrow();
    assert.deepEqual(JSON.parse(summary.counts), { exec: 3, connect: 10 });
    const stored = await server.db.selectFrom('server_agents').select('status').where('id', '=', agent.agentId).executeTakeFirstOrThrow();
    assert.deepEqual(JSON.parse(stored.status!), { sensor: 'procfs' });
  });

  it('answers a replayed batch with its first answer and changes nothing', async () => {
    const first = await post(batch('b-replay', { alerts: [alert({ id: '0d7a4c2e-0000-4000-8000-000000000001', count: 2 })] }));
    assert.equal(first.json().replayed, false);
    await server.db.updateTable('server_alerts').set({ message: 'edited meanwhile' }).where('id', '=', '0d7a4c2e-0000-4000-8000-000000000001').execute();
    // Sent again later (another sentAt): still the same batch.
    const again = await post({ ...batch('b-replay', { alerts: [alert({ id: '0d7a4c2e-0000-4000-8000-000000000001', count: 2 })] }), sentAt: 9_999 });
    assert.equal(again.statusCode, 200);
    assert.equal(again.json().replayed, true);
    assert.equal(again.headers['idempotent-replayed'], 'true');
    assert.deepEqual(again.json().accepted, first.json().accepted);
    const row = await server.db.selectFrom('server_alerts').select('message').where('id', '=', '0d7a4c2e-0000-4000-8000-000000000001').executeTakeFirstOrThrow();
    assert.equal(row.message, 'edited meanwhile');
  });

  it('refuses a reused batchId with other content (409)', async () => {
    assert.equal((await post(batch('b-reused', { alerts: [alert({ count: 1 })] }))).statusCode, 200);
    const conflict = await post(batch('b-reused', { alerts: [alert({ count: 7 })] }));
    assert.equal(conflict.statusCode, 409);
    assert.match(conflict.json().error.message, /batchId was already used/);
  });

  it('keeps the larger count and later lastAt of an alert delivered out of order or repeatedly', async () => {
    const id = '0d7a4c2e-0000-4000-8000-00000000000a';
    await post(batch('o-3', { alerts: [alert({ id, count: 3, lastAt: 3_000, message: 'third' })] }));
    await post(batch('o-1', { alerts: [alert({ id, count: 1, lastAt: 1_500, message: 'first' })] }));
    await post(batch('o-3b', { alerts: [alert({ id, count: 3, lastAt: 3_000, message: 'third' })] }));
    await post(batch('o-2', { alerts: [alert({ id, count: 2, lastAt: 2_500, message: 'second' }), alert({ id, count: 5, lastAt: 5_000, message: 'fifth' }), alert({ id, count: 4, lastAt: 4_000, message: 'fourth' })] }));
    const rows = await server.db.selectFrom('server_alerts').selectAll().where('id', '=', id).execute();
    assert.equal(rows.length, 1);
    assert.deepEqual([rows[0]!.count, rows[0]!.last_at, rows[0]!.message], [5, 5_000, 'fifth']);
  });

  it('never lets one agent overwrite another agent’s alert', async () => {
    const id = '0d7a4c2e-0000-4000-8000-00000000000b';
    await post(batch('mine', { alerts: [alert({ id, count: 1, message: 'original' })] }));
    const other = await enrolled(server, admin, 'intruder');
    const response = await post(batch('theirs', { alerts: [alert({ id, count: 99, message: 'forged' })] }), other.headers);
    assert.equal(response.statusCode, 200);
    const row = await server.db.selectFrom('server_alerts').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    assert.deepEqual([row.agent_id, row.count, row.message], [agent.agentId, 1, 'original']);
  });

  it('refuses batches from anyone but an enrolled agent: admin, viewer and ingest tokens, sessions, strangers', async () => {
    for (const role of ['admin', 'viewer', 'ingest']) {
      const { token } = await createToken(server.app, admin, role, `${role}-batch`);
      const response = await post(batch('x'), { authorization: `Bearer ${token}` });
      assert.equal(response.statusCode, 403, `${role}: ${response.body}`);
      assert.match(response.json().error.message, /only an enrolled agent's own credential/);
    }
    assert.equal((await post(batch('x'), sessionHeaders(admin))).statusCode, 403);
    assert.equal((await post(batch('x'), {})).statusCode, 401);
    assert.equal((await post(batch('x'), { authorization: `Bearer nmna_${'B'.repeat(43)}` })).statusCode, 401);
  });

  it('refuses a revoked agent’s credential with 401 saying so, and keeps agents out of the rest of the API', async () => {
    const doomed = await enrolled(server, admin, 'doomed');
    assert.equal((await server.app.inject({ method: 'GET', url: '/api/reports', headers: doomed.headers })).statusCode, 403);
    assert.equal((await server.app.inject({ method: 'GET', url: '/api/me', headers: doomed.headers })).statusCode, 403);
    const revoked = await server.app.inject({ method: 'DELETE', url: `/api/agents/${doomed.agentId}`, headers: sessionHeaders(admin) });
    assert.equal(revoked.statusCode, 200);
    assert.ok(revoked.json().revokedAt);
    const refused = await post(batch('after-revoke'), doomed.headers);
    assert.equal(refused.statusCode, 401);
    assert.match(refused.json().error.message, /doomed .* was revoked/);
    assert.equal((await server.app.inject({ method: 'GET', url: '/api/agents/sync', headers: doomed.headers })).statusCode, 401);
    const audit = await server.db.selectFrom('server_audit_log').select(['action', 'actor']).where('target', '=', `agent:${doomed.agentId}`).orderBy('at').execute();
    assert.deepEqual(audit.map((entry) => entry.action), ['agent.enrol', 'agent.revoke']);
  });

  it('refuses hostile batches with a 400 naming what is wrong, and stores nothing of them', async () => {
    const before = await server.db.selectFrom('server_alerts').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
    const cases: Array<[string, unknown, RegExp]> = [
      ['too many alerts', batch('h1', { alerts: Array.from({ length: 5001 }, () => ({})) }), /alerts/],
      ['a wrong type', batch('h2', { alerts: [alert({ count: '5' })] }), /alerts\.0\.count/],
      ['a negative count', batch('h3', { alerts: [alert({ count: -1 })] }), /alerts\.0\.count/],
      ['a huge string', batch('h4', { alerts: [alert({ message: 'm'.repeat(5000) })] }), /alerts\.0\.message/],
      ['an unknown field', batch('h5', { alerts: [alert({ shell: 'rm -rf /' })] }), /shell/],
      ['an unknown top-level field', { ...batch('h6'), admin: true }, /admin/],
      ['an unknown rule', batch('h7', { alerts: [alert({ rule: 'anything' })] }), /alerts\.0\.rule/],
      ['a batch id with spaces', batch('a b'), /batchId/],
      ['an array for a body', [batch('h8')], /body/],
      ['a window ending before it starts', batch('h9', { eventSummaries: [{ entityId: 'e', windowStart: 10, windowEnd: 5, counts: {} }] }), /windowEnd/],
      ['too many event types', batch('h10', { eventSummaries: [{ entityId: 'e', windowStart: 1, windowEnd: 5, counts: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`t${i}`, 1])) }] }), /counts/],
      ['a profile whose id is not its key', batch('h11', { profiles: [{ id: 'wl-000000000000', revision: 1, document: profile({ id: 'wl-000000000000' }) }] }), /profiles\.0\.document: id: the id is not the one its key/],
      ['a profile document with a bad port', batch('h12', { profiles: [{ id: profileId, revision: 1, document: { ...profile(), allow: { ...profile().allow, listen: [{ port: 70000, protocol: 'tcp', source: 'learned', firstSeen: 1 }] } } }] }), /allow\.listen\.0\.port/],
      ['a profile under another id', batch('h13', { profiles: [{ id: 'wl-aaaaaaaaaaaa', revision: 1, document: profile() }] }), /profiles\.0\.id: says wl-aaaaaaaaaaaa/],
      ['an oversized entity document', batch('h14', { entities: [{ id: 'e', kind: 'host', name: 'host', document: { blob: 'x'.repeat(70_000) } }] }), /entities\.0\.document: larger than 65536 bytes/],
    ];
    for (const [what, body, message] of cases) {
      const response = await post(body);
      assert.equal(response.statusCode, 400, `${what}: ${response.statusCode} ${response.body.slice(0, 300)}`);
      assert.equal(response.json().error.code, 'invalid-input', what);
      assert.match(response.json().error.message, message, what);
    }
    const tooBig = await post(batch('h-big', { alerts: Array.from({ length: 100 }, (_, i) => alert({ id: `id-${i}`, message: 'm'.repeat(4000) })) }));
    assert.equal(tooBig.statusCode, 413);
    const notJson = await server.app.inject({ method: 'POST', url: '/api/agents/batches', headers: { ...agent.headers, 'content-type': 'application/json' }, payload: '{"batchId": ' });
    assert.equal(notJson.statusCode, 400);
    const after = await server.db.selectFrom('server_alerts').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
    assert.equal(Number(after.n), Number(before.n));
    assert.equal(await server.db.selectFrom('server_agent_batches').select('batch_id').where('batch_id', 'like', 'h%').executeTakeFirst(), undefined);
  });

  it('never writes the credential into the database file', async () => {
    await server.db.destroy().catch(() => undefined);
    const files = await Promise.all(['nomine.db', 'nomine.db-wal'].map((name) => readFile(join(server.home, name)).catch(() => Buffer.alloc(0))));
    assert.ok(files.every((bytes) => !bytes.includes(agent.credential.slice(5))));
  });
});

describe('profiles learned on several nodes', () => {
  let server: TestServer;
  let admin: Session;
  let a: Awaited<ReturnType<typeof enrolled>>;
  let b: Awaited<ReturnType<typeof enrolled>>;
  before(async () => {
    server = await startTestServer();
    admin = await withAdmin(server);
    a = await enrolled(server, admin, 'node-a');
    b = await enrolled(server, admin, 'node-b');
  });
  after(() => server.close());

  const post = (headers: Record<string, string>, body: unknown) => server.app.inject({ method: 'POST', url: '/api/agents/batches', headers, payload: body as Record<string, unknown> });
  const sync = async (headers: Record<string, string>, since = 0) => {
    const response = await server.app.inject({ method: 'GET', url: `/api/agents/sync?since=${since}`, headers });
    assert.equal(response.statusCode, 200, response.body);
    return response.json();
  };
  const stored = () => server.db.selectFrom('server_profiles').selectAll().where('id', '=', profileId).executeTakeFirstOrThrow();

  it('merges both nodes’ contributions and sends each node the others’ CPU samples', async () => {
    const fromA = await post(a.headers, batch('pa-1', { profiles: [{ id: profileId, revision: 2, document: profile({}, '/bin/api', [0.1, 0.1]) }] }));
    assert.equal(fromA.json().accepted.profiles, 1);
    const first = await stored();
    const fromB = await post(b.headers, batch('pb-1', { profiles: [{ id: profileId, revision: 5, document: profile({ learningStartedAt: 500, phase: 'enforcing', enforcingSince: 4_000 }, '/bin/worker', [1.0]) }] }));
    assert.equal(fromB.json().accepted.profiles, 1);
    const merged = await stored();
    assert.ok(merged.revision > first.revision);
    const document = JSON.parse(merged.document) as Profile;
    assert.deepEqual(document.allow.processes.map((p) => p.exe).sort(), ['/bin/api', '/bin/worker']);
    assert.deepEqual([document.phase, document.learningStartedAt, document.allow.cpu.samples, merged.phase], ['enforcing', 500, 3, 'enforcing']);

    const forA = await sync(a.headers);
    assert.equal(forA.revision, merged.revision);
    assert.equal(forA.hasMore, false);
    const synced = forA.profiles.find((p: { id: string }) => p.id === profileId);
    assert.deepEqual(synced.document.allow.processes.map((p: { exe: string }) => p.exe).sort(), ['/bin/api', '/bin/worker']);
    assert.equal(synced.othersCpu.samples, 1, 'node a gets node b’s sample, not its own back');
    const forB = (await sync(b.headers)).profiles.find((p: { id: string }) => p.id === profileId);
    assert.equal(forB.othersCpu.samples, 2);
    assert.deepEqual((await sync(a.headers, forA.revision)).profiles, [], 'nothing new since');
  });

  it('changes nothing for an older or repeated revision, nor for a contribution that adds nothing new', async () => {
    const before = await stored();
    const older = await post(a.headers, batch('pa-old', { profiles: [{ id: profileId, revision: 1, document: profile({}, '/bin/stale') }] }));
    assert.equal(older.json().accepted.profiles, 0);
    const same = await post(b.headers, batch('pb-same', { profiles: [{ id: profileId, revision: 6, document: profile({ learningStartedAt: 500, phase: 'enforcing', enforcingSince: 4_000 }, '/bin/worker', [1.0]) }] }));
    assert.equal(same.json().accepted.profiles, 1);
    const after = await stored();
    assert.equal(after.revision, before.revision, 'the merge did not change, so neither did the revision');
    assert.ok(!after.document.includes('/bin/stale'));
  });

  it('lets a mode a person set on the console win over the nodes’ mode, and sends it to every node', async () => {
    const { id: userId } = await server.db.selectFrom('server_users').select('id').executeTakeFirstOrThrow();
    await setProfileMode(server.db, profileId, 'prevent', { actor: `user:${userId}`, now: server.clock.now });
    await post(a.headers, batch('pa-mode', { profiles: [{ id: profileId, revision: 3, document: profile({ mode: 'learn' }, '/bin/api', [0.1, 0.1]) }] }));
    const row = await stored();
    assert.deepEqual([row.mode, row.mode_set_by, (JSON.parse(row.document) as Profile).mode], ['prevent', `user:${userId}`, 'prevent']);
    const synced = (await sync(b.headers)).profiles.find((p: { id: string }) => p.id === profileId);
    assert.deepEqual([synced.mode, synced.modeSetBy], ['prevent', `user:${userId}`]);
  });

  it('voids what was learned before a relearn request until nodes contribute after carrying it out', async () => {
    const { id: userId } = await server.db.selectFrom('server_users').select('id').executeTakeFirstOrThrow();
    server.clock.now += 1_000;
    await relearnProfile(server.db, profileId, { actor: `user:${userId}`, now: server.clock.now });
    const request = Number((await stored()).relearn_requested_at);
    const pending = (await sync(a.headers)).profiles.find((p: { id: string }) => p.id === profileId);
    assert.equal(pending.relearnRequestedAt, request);
    assert.deepEqual([pending.document.phase, pending.document.allow.processes.length, pending.othersCpu.samples], ['learning', 0, 0]);

    server.clock.now += 1_000;
    const stale = await post(b.headers, batch('pb-stale', { profiles: [{ id: profileId, revision: 9, document: profile({}, '/bin/before-relearn') }] }));
    assert.equal(stale.json().accepted.profiles, 0, 'learned before the request: not merged');
    const fresh = await post(a.headers, batch('pa-fresh', { profiles: [{ id: profileId, revision: 4, relearnRequestedAt: request, document: profile({ learningStartedAt: 7_000 }, '/bin/after-relearn') }] }));
    assert.equal(fresh.json().accepted.profiles, 1);
    const document = JSON.parse((await stored()).document) as Profile;
    assert.deepEqual(document.allow.processes.map((p) => p.exe), ['/bin/after-relearn']);
  });

  it('pages a long sync and starts over when the agent is ahead of the console', async () => {
    for (let index = 0; index < 3; index++) {
      const other = { imageDigest: `sha256:${index}`, workload: `container:w${index}` };
      const id = profileIdFor(other);
      await post(a.headers, batch(`page-${index}`, { profiles: [{ id, revision: 1, document: { ...profile(), id, key: other } }] }));
    }
    const all = await sync(a.headers);
    assert.ok(all.profiles.length >= 4);
    // Two at a time: each page ends at its last revision and says more wait, until the last one.
    const seen: string[] = [];
    let since = 0;
    for (let pages = 0; ; pages++) {
      assert.ok(pages < 10);
      const page = await syncProfiles(server.db, a.agentId, since, 2);
      seen.push(...page.profiles.map((p) => p.id));
      since = page.revision;
      if (!page.hasMore) break;
    }
    assert.deepEqual(seen, all.profiles.map((p: { id: string }) => p.id));
    assert.equal(since, all.revision);
    const ahead = await sync(a.headers, all.revision + 1000);
    assert.equal(ahead.profiles.length, all.profiles.length, 'a since beyond the newest revision means a replaced store: everything again');
    const bad = await server.app.inject({ method: 'GET', url: '/api/agents/sync?since=-1', headers: a.headers });
    assert.equal(bad.statusCode, 400);
    const unknown = await server.app.inject({ method: 'GET', url: '/api/agents/sync?since=1&all=1', headers: a.headers });
    assert.equal(unknown.statusCode, 400);
  });
});

describe('batch ids over time', () => {
  it('forgets a batch id after the retention period, and keeps recent ones', async () => {
    const server = await startTestServer();
    try {
      const admin = await withAdmin(server);
      const agent = await enrolled(server, admin);
      const post = (batchId: string) => server.app.inject({ method: 'POST', url: '/api/agents/batches', headers: agent.headers, payload: batch(batchId) });
      assert.equal((await post('old')).statusCode, 200);
      server.clock.now += 8 * 86_400_000;
      assert.equal((await post('recent')).statusCode, 200);
      const kept = await server.db.selectFrom('server_agent_batches').select('batch_id').where('agent_id', '=', agent.agentId).execute();
      assert.deepEqual(kept.map((row) => row.batch_id), ['recent']);
    } finally {
      await server.close();
    }
  });
});
