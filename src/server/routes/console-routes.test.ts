import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { seedFleet, type FleetFixture } from '../testing/fleet-fixture.ts';
import { adminPassword, createToken, login, sampleEnvelope, sessionHeaders, startTestServer, withAdmin, type Session, type TestServer } from '../testing/test-server.ts';

const reportFixture = (kind: string) => JSON.parse(readFileSync(new URL(`../../../test/fixtures/reports/${kind}.json`, import.meta.url), 'utf8')) as Record<string, unknown>;

describe('the console routes', () => {
  let server: TestServer;
  let fleet: FleetFixture;
  let admin: Session;
  let viewer: Session;
  let tokens: { admin: string; viewer: string; ingest: string };
  before(async () => {
    server = await startTestServer({ loginAttemptsPerIp: 1_000 });
    admin = await withAdmin(server);
    await server.app.inject({ method: 'POST', url: '/api/users', headers: sessionHeaders(admin), payload: { username: 'vera', password: adminPassword, role: 'viewer' } });
    viewer = await login(server.app, 'vera', adminPassword);
    tokens = {
      admin: (await createToken(server.app, admin, 'admin', 'automation')).token,
      viewer: (await createToken(server.app, admin, 'viewer')).token,
      ingest: (await createToken(server.app, admin, 'ingest')).token,
    };
    fleet = await seedFleet(server.db, server.clock.now);
  });
  after(() => server.close());

  const get = (url: string, headers: Record<string, string> = sessionHeaders(viewer)) => server.app.inject({ method: 'GET', url, headers });
  const post = (url: string, payload: unknown, headers: Record<string, string> = sessionHeaders(admin)) => server.app.inject({ method: 'POST', url, headers, payload: payload as object });
  const revisionOf = async (id: string) => Number((await server.db.selectFrom('server_profiles').select('revision').where('id', '=', id).executeTakeFirstOrThrow()).revision);
  const maxRevision = async () => Number((await server.db.selectFrom('server_profiles').select((eb) => eb.fn.max('revision').as('max')).executeTakeFirstOrThrow()).max);
  const auditRows = (action: string) => server.db.selectFrom('server_audit_log').selectAll().where('action', '=', action).execute();

  describe('overview', () => {
    it('counts nodes, running entities by mode and alerts by severity over the chosen range', async () => {
      const response = await get('/api/overview');
      assert.equal(response.statusCode, 200, response.body);
      const body = response.json();
      assert.equal(body.nodes.total, 2);
      assert.equal(body.nodes.online, 1, 'node-b was last seen an hour ago');
      assert.deepEqual(body.entities.byMode, { learn: 0, alert: 2, prevent: 1, stop: 0, none: 2 });
      assert.deepEqual(body.profiles, { total: 2, learning: 1, enforcing: 1 });
      assert.equal(body.alerts.series.length, 24);
      // The 30-hour-old alert is outside the day; five remain.
      assert.equal(body.alerts.total, 5);
      assert.deepEqual(body.alerts.bySeverity, { info: 0, low: 1, medium: 1, high: 1, critical: 2 });
      const summed = body.alerts.series.reduce((sum: number, point: Record<string, number>) => sum + point.critical! + point.high! + point.medium! + point.low! + point.info!, 0);
      assert.equal(summed, 5);
      // The test clock sits on the hour: the last bucket holds only now, the two newest criticals fall in the one before.
      assert.equal(body.alerts.series.at(-1).at, new Date(server.clock.now).toISOString());
      assert.equal(body.alerts.series.at(-2).critical, 2);
      assert.deepEqual(
        body.topWorkloads.map((entry: { key: string; alerts: number; occurrences: number; worst: string }) => [entry.key, entry.alerts, entry.occurrences, entry.worst]),
        [
          ['compose:shop/web', 3, 6, 'critical'],
          ['k8s:prod/StatefulSet/db', 1, 12, 'high'],
          ['host:node-b', 1, 1, 'low'],
        ],
      );
      assert.equal(body.topRules[0].worst, 'critical');
      assert.equal(body.latestAlerts[0].id, 'alert-06');
      assert.deepEqual(body.reports, { scan: null, audit: null, probe: null });
    });

    it('narrows the chart to the last hour with range=1h', async () => {
      const body = (await get('/api/overview?range=1h')).json();
      assert.equal(body.alerts.bucketMs, 300_000);
      assert.equal(body.alerts.series.length, 12);
      assert.equal(body.alerts.total, 2);
    });

    it('shows the headline of the latest scan, audit and probe reports', async () => {
      for (const kind of ['scan', 'audit', 'probe']) {
        const response = await post(`/api/reports/${kind}`, sampleEnvelope(kind, reportFixture(kind)), { authorization: `Bearer ${tokens.ingest}`, 'idempotency-key': `overview-${kind}` });
        assert.equal(response.statusCode, 201, response.body);
      }
      const { reports } = (await get('/api/overview')).json();
      assert.equal(reports.scan.totalFindings, 1);
      assert.deepEqual(
        { path: reports.scan.findings[0].path, verdict: reports.scan.findings[0].verdict, rule: reports.scan.findings[0].rule },
        { path: '/usr/bin/start-miner.sh', verdict: 'malicious', rule: 'keyword.stratum-url' },
      );
      assert.deepEqual({ fail: reports.audit.fail, warn: reports.audit.warn, pass: reports.audit.pass, scope: reports.audit.scope }, { fail: 5, warn: 4, pass: 4, scope: 'docker' });
      assert.deepEqual({ endpoints: reports.probe.endpoints, fail: reports.probe.fail }, { endpoints: 2, fail: 2 });
    });

    it('refuses an unknown range, naming the parameter', async () => {
      const response = await get('/api/overview?range=1y');
      assert.equal(response.statusCode, 400);
      assert.match(response.json().error.message, /querystring\.range/);
    });
  });

  describe('nodes', () => {
    it('lists nodes newest first with online state and running entities', async () => {
      const { nodes } = (await get('/api/nodes')).json();
      assert.deepEqual(
        nodes.map((node: { name: string; online: boolean; entities: number }) => [node.name, node.online, node.entities]),
        [
          ['node-a', true, 3],
          ['node-b', false, 2],
        ],
      );
      assert.equal(nodes[0].status.sensor, 'ebpf');
    });
  });

  describe('entities', () => {
    const names = async (query: string) => {
      const response = await get(`/api/entities${query}`);
      assert.equal(response.statusCode, 200, response.body);
      return response.json().entities.map((entity: { name: string; nodeName: string }) => `${entity.name}@${entity.nodeName}`);
    };

    it('lists running entities with their profile’s mode and alert count', async () => {
      const { entities } = (await get('/api/entities')).json();
      const web1 = entities.find((entity: { name: string }) => entity.name === 'web-1');
      assert.deepEqual({ mode: web1.mode, phase: web1.phase, alerts: web1.alerts, nodeName: web1.nodeName }, { mode: 'alert', phase: 'learning', alerts: 3, nodeName: 'node-a' });
      assert.ok(!entities.some((entity: { name: string }) => entity.name === 'web-0'), 'gone entities are not running');
    });

    it('filters by node, kind, mode, text and state', async () => {
      assert.deepEqual(await names(`?node=${fleet.nodeB}`), ['node-b@node-b', 'web-2@node-b']);
      assert.deepEqual(await names('?kind=host'), ['node-a@node-a', 'node-b@node-b']);
      assert.deepEqual(await names('?mode=prevent'), ['db-0@node-a']);
      assert.deepEqual(await names('?mode=none'), ['node-a@node-a', 'node-b@node-b']);
      assert.deepEqual(await names('?text=SHOP-WEB'), ['web-1@node-a', 'web-2@node-b']);
      assert.deepEqual(await names('?state=gone'), ['web-0@node-a']);
      assert.deepEqual(await names(`?profile=${fleet.web.id}&state=all`), ['web-1@node-a', 'web-2@node-b']);
      assert.deepEqual(await names('?text=%25'), [], 'a % is matched literally, not as a wildcard');
    });

    it('says when the list was cut at the limit', async () => {
      const body = (await get('/api/entities?limit=2')).json();
      assert.equal(body.entities.length, 2);
      assert.equal(body.truncated, true);
    });

    for (const [query, field] of [
      ['?limit=0', 'limit'],
      ['?limit=501', 'limit'],
      ['?limit=ten', 'limit'],
      ['?mode=panic', 'mode'],
      ['?state=zombie', 'state'],
      ['?node=a%20b', 'node'],
      ['?text=', 'text'],
      [`?text=${'x'.repeat(201)}`, 'text'],
      ['?kind=host&kind=container', 'kind'],
      ['?orderBy=name', ''],
      ['?__proto__=1', ''],
    ] as const) {
      it(`refuses the hostile query ${query.slice(0, 40)} with a 400 naming ${field || 'the query'}`, async () => {
        const response = await get(`/api/entities${query}`);
        assert.equal(response.statusCode, 400, response.body);
        assert.equal(response.json().error.code, 'invalid-input');
        assert.match(response.json().error.message, new RegExp(`querystring${field ? `\\.${field}` : ''}`));
      });
    }

    it('shows one entity with its profile, its own alerts and its event windows', async () => {
      const response = await get(`/api/entities/${fleet.nodeA}/c-web-1`);
      assert.equal(response.statusCode, 200, response.body);
      const body = response.json();
      assert.equal(body.entity.name, 'web-1');
      assert.equal(body.document.labels.app, 'web-1');
      assert.equal(body.profile.id, fleet.web.id);
      assert.deepEqual(body.alerts.map((alert: { id: string }) => alert.id), ['alert-06', 'alert-03', 'alert-01']);
      assert.deepEqual(body.eventSummaries[0].counts, { exec: 3, connect: 40 });
    });

    it('answers 404 for an entity no node reports, and 400 for an id with spaces', async () => {
      assert.equal((await get(`/api/entities/${fleet.nodeB}/c-web-1`)).statusCode, 404);
      assert.equal((await get(`/api/entities/${fleet.nodeA}/a%20b`)).statusCode, 400);
    });
  });

  describe('profiles', () => {
    it('lists profiles with how many nodes contributed and entities run them', async () => {
      const { profiles } = (await get('/api/profiles')).json();
      assert.deepEqual(
        profiles.map((profile: { workload: string; mode: string; nodes: number; entities: number }) => [profile.workload, profile.mode, profile.nodes, profile.entities]),
        [
          ['compose:shop/web', 'alert', 2, 2],
          ['k8s:prod/StatefulSet/db', 'prevent', 1, 1],
        ],
      );
      assert.deepEqual((await get('/api/profiles?phase=enforcing')).json().profiles.map((profile: { id: string }) => profile.id), [fleet.db.id]);
      assert.equal((await get('/api/profiles?phase=done')).statusCode, 400);
    });

    it('shows each allowance with when it was learned and on which nodes', async () => {
      const response = await get(`/api/profiles/${fleet.web.id}`);
      assert.equal(response.statusCode, 200, response.body);
      const profile = response.json();
      const nodesOf = (list: { nodes: { nodeName: string }[] }[]) => list.map((entry) => entry.nodes.map((node) => node.nodeName).sort().join('+'));
      assert.deepEqual(profile.allow.processes.map((entry: { exe: string }) => entry.exe), ['/usr/sbin/nginx', '/app/server']);
      assert.deepEqual(nodesOf(profile.allow.processes), ['node-a+node-b', 'node-a']);
      assert.equal(profile.allow.processes[0].firstSeen, new Date(server.clock.now - 3 * 3_600_000).toISOString());
      assert.deepEqual(nodesOf(profile.allow.fileWrites), ['node-a', 'node-b']);
      assert.deepEqual(profile.allow.listen.map((entry: { port: number }) => entry.port), [8080]);
      assert.deepEqual(profile.allow.syscalls.map((entry: { name: string }) => entry.name), ['accept4', 'openat', 'read', 'write']);
      assert.deepEqual(profile.allow.cpu.nodes.map((node: { nodeName: string; samples: number }) => [node.nodeName, node.samples]), [['node-a', 14], ['node-b', 6]]);
      assert.deepEqual(profile.contributions.map((contribution: { nodeName: string; counts: { processes: number } }) => [contribution.nodeName, contribution.counts.processes]), [['node-a', 2], ['node-b', 1]]);
      assert.deepEqual(profile.alerts.map((alert: { id: string }) => alert.id), ['alert-06', 'alert-05', 'alert-03', 'alert-01']);
      assert.deepEqual(profile.problems, []);
    });

    it('shows what it could read of a malformed stored document and says what it skipped', async () => {
      await server.db
        .insertInto('server_profiles')
        .values({ id: 'wl-broken', workload: 'compose:x/y', image_digest: 'sha256:00', image: null, mode: 'warp', phase: 'learning', revision: 1, document: '{"allow":{"processes":[{"exe":"/bin/ok"},{"exe":42}],"egress":"lots"}}', mode_set_by: null, approved_at: null, approved_by: null, relearn_requested_at: null, created_at: 0, updated_at: 0 })
        .execute();
      const response = await get('/api/profiles/wl-broken');
      assert.equal(response.statusCode, 200, response.body);
      const profile = response.json();
      assert.equal(profile.mode, 'alert', 'an unknown stored mode shows as the default');
      assert.deepEqual(profile.allow.processes.map((entry: { exe: string }) => entry.exe), ['/bin/ok']);
      assert.ok(profile.problems.some((problem: string) => /1 malformed entry in allow\.processes/.test(problem)), profile.problems.join('; '));
      assert.ok(profile.problems.some((problem: string) => /allow\.egress is not a list/.test(problem)));
      await server.db.deleteFrom('server_profiles').where('id', '=', 'wl-broken').execute();
    });

    it('answers 404 for an unknown profile', async () => {
      const response = await get('/api/profiles/wl-nothing');
      assert.equal(response.statusCode, 404);
      assert.equal(response.json().error.code, 'not-found');
    });
  });

  describe('profile actions', () => {
    it('approves a learning profile: enforcing now, a new revision agents will sync, an audit entry', async () => {
      const before = await maxRevision();
      const response = await post(`/api/profiles/${fleet.web.id}/approve`, {});
      assert.equal(response.statusCode, 200, response.body);
      const body = response.json();
      assert.equal(body.changed, true);
      assert.equal(body.revision, before + 1, 'the server revision is one counter across profiles');
      assert.equal(body.profile.phase, 'enforcing');
      assert.equal(body.profile.approvedBy, 'admin');
      assert.ok(body.profile.enforcingSince);
      const row = await server.db.selectFrom('server_profiles').selectAll().where('id', '=', fleet.web.id).executeTakeFirstOrThrow();
      assert.equal(JSON.parse(row.document).phase, 'enforcing');
      const audit = await auditRows('profile.approve');
      assert.equal(audit.length, 1);
      assert.match(audit[0]!.actor, /^user:/);
      assert.equal(audit[0]!.target, `profile:${fleet.web.id}`);
      assert.equal(body.profile.history[0].action, 'profile.approve');
      assert.equal(body.profile.history[0].actorName, 'admin');
    });

    it('answers a repeated approval as unchanged, without a new revision or audit entry', async () => {
      const before = await revisionOf(fleet.web.id);
      const response = await post(`/api/profiles/${fleet.web.id}/approve`, undefined);
      assert.equal(response.statusCode, 200, response.body);
      assert.equal(response.json().changed, false);
      assert.equal(await revisionOf(fleet.web.id), before);
      assert.equal((await auditRows('profile.approve')).length, 1);
    });

    it('sets the mode, recording who chose it, and takes a new revision', async () => {
      const before = await maxRevision();
      const response = await post(`/api/profiles/${fleet.web.id}/mode`, { mode: 'prevent' });
      assert.equal(response.statusCode, 200, response.body);
      const body = response.json();
      assert.equal(body.profile.mode, 'prevent');
      assert.match(body.profile.modeSetBy, /^user:/);
      assert.equal(body.profile.modeSetByName, 'admin');
      assert.equal(body.revision, before + 1);
      const audit = await auditRows('profile.set-mode');
      assert.deepEqual(JSON.parse(audit[0]!.detail!), { from: 'alert', to: 'prevent', revision: before + 1 });
      const listed = (await get(`/api/entities?profile=${fleet.web.id}`)).json().entities;
      assert.ok(listed.every((entity: { mode: string }) => entity.mode === 'prevent'));
    });

    it('lets an admin token set the mode, recorded as the token', async () => {
      const response = await post(`/api/profiles/${fleet.db.id}/mode`, { mode: 'stop' }, { authorization: `Bearer ${tokens.admin}` });
      assert.equal(response.statusCode, 200, response.body);
      assert.equal(response.json().profile.modeSetByName, 'token automation');
    });

    it('relearns: learning again from nothing, every node’s contribution forgotten', async () => {
      const response = await post(`/api/profiles/${fleet.web.id}/relearn`, {});
      assert.equal(response.statusCode, 200, response.body);
      const profile = response.json().profile;
      assert.equal(profile.phase, 'learning');
      assert.equal(profile.approvedAt, null);
      assert.ok(profile.relearnRequestedAt);
      assert.equal(profile.mode, 'prevent', 'the mode is kept');
      assert.deepEqual(profile.allow.processes, []);
      assert.deepEqual(profile.contributions, []);
      assert.equal((await auditRows('profile.relearn')).length, 1);
    });

    for (const [name, url, payload, field] of [
      ['an unknown mode', 'mode', { mode: 'nuke' }, 'body.mode'],
      ['a mode of the wrong type', 'mode', { mode: 3 }, 'body.mode'],
      ['no mode at all', 'mode', {}, 'body.mode'],
      ['an extra field', 'mode', { mode: 'alert', force: true }, 'body'],
      ['options on approve', 'approve', { force: true }, 'body'],
      ['an array body', 'relearn', [1], 'body'],
    ] as const) {
      it(`refuses ${name} with a 400 naming ${field}`, async () => {
        const before = await revisionOf(fleet.db.id);
        const response = await post(`/api/profiles/${fleet.db.id}/${url}`, payload);
        assert.equal(response.statusCode, 400, response.body);
        assert.ok(response.json().error.message.includes(field), response.json().error.message);
        assert.equal(await revisionOf(fleet.db.id), before);
      });
    }

    it('answers 404 for an action on an unknown profile, and changes nothing', async () => {
      const before = await maxRevision();
      const response = await post('/api/profiles/wl-missing/approve', {});
      assert.equal(response.statusCode, 404);
      assert.equal(await maxRevision(), before);
    });

    it('lets no viewer, ingest token, anonymous caller or CSRF-less session act', async () => {
      const before = await maxRevision();
      const attempts: [string, Record<string, string>, number][] = [
        ['viewer session', sessionHeaders(viewer), 403],
        ['viewer token', { authorization: `Bearer ${tokens.viewer}` }, 403],
        ['ingest token', { authorization: `Bearer ${tokens.ingest}` }, 403],
        ['anonymous', {}, 401],
        ['admin session without CSRF', sessionHeaders(admin, false), 403],
        ['admin session with a wrong CSRF token', { ...sessionHeaders(admin, false), 'x-csrf-token': 'forged' }, 403],
        ['a garbage bearer', { authorization: 'Bearer nmn_forged' }, 401],
      ];
      for (const [who, headers, status] of attempts) {
        for (const [action, payload] of [
          ['approve', {}],
          ['relearn', {}],
          ['mode', { mode: 'learn' }],
        ] as const) {
          const response = await post(`/api/profiles/${fleet.db.id}/${action}`, payload, headers);
          assert.equal(response.statusCode, status, `${who} ${action}: ${response.body}`);
        }
      }
      assert.equal(await maxRevision(), before);
    });
  });

  describe('alerts', () => {
    const ids = async (query: string, headers?: Record<string, string>) => {
      const response = await get(`/api/alerts${query}`, headers);
      assert.equal(response.statusCode, 200, response.body);
      return response.json().alerts.map((alert: { id: string }) => alert.id);
    };
    const iso = (offsetMs: number) => new Date(server.clock.now + offsetMs).toISOString();

    it('lists alerts newest first with what was seen, what is allowed and the action taken', async () => {
      const { alerts, nextCursor } = (await get('/api/alerts')).json();
      assert.deepEqual(alerts.map((alert: { id: string }) => alert.id), fleet.alertIds);
      assert.equal(nextCursor, null);
      assert.deepEqual(
        { node: alerts[0].nodeName, seen: alerts[0].seen, action: alerts[0].action, count: alerts[0].count },
        { node: 'node-a', seen: 'exec /tmp/xmrig (sha256 ab12…) by /bin/sh, pid 4242', action: { taken: 'killed', reason: 'mode prevent' }, count: 3 },
      );
    });

    it('filters by rule, severity, workload, node, profile, time and text', async () => {
      assert.deepEqual(await ids('?rule=mining-pool'), ['alert-05']);
      assert.deepEqual(await ids('?severity=medium'), ['alert-03', 'alert-01']);
      assert.deepEqual(await ids('?minSeverity=high'), ['alert-06', 'alert-05', 'alert-04']);
      assert.deepEqual(await ids('?workload=k8s:prod/StatefulSet/db'), ['alert-04']);
      assert.deepEqual(await ids(`?node=${fleet.nodeB}`), ['alert-05', 'alert-02']);
      assert.deepEqual(await ids(`?profile=${fleet.db.id}`), ['alert-04']);
      assert.deepEqual(await ids(`?since=${iso(-3_600_000)}`), ['alert-06', 'alert-05']);
      assert.deepEqual(await ids(`?since=${iso(-24 * 3_600_000)}&until=${iso(-3_600_000)}`), ['alert-04', 'alert-03', 'alert-02']);
      assert.deepEqual(await ids('?text=WEB-2'), ['alert-05']);
      assert.deepEqual(await ids('?text=100%25_of'), ['alert-03'], 'wildcards in the text are matched literally');
      assert.deepEqual(await ids('?text=100_'), [], 'an underscore is not a one-character wildcard');
      assert.deepEqual(await ids('?rule=drift'), []);
    });

    it('pages through every alert exactly once with the cursor', async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const body = (await get(`/api/alerts?limit=4${cursor ? `&cursor=${cursor}` : ''}`)).json() as { alerts: { id: string }[]; nextCursor: string | null };
        seen.push(...body.alerts.map((alert) => alert.id));
        cursor = body.nextCursor;
        pages += 1;
      } while (cursor && pages < 10);
      assert.equal(pages, 2);
      assert.deepEqual(seen, fleet.alertIds);
    });

    it('is readable with a viewer token but not an ingest token, and not anonymously', async () => {
      assert.equal((await ids('?limit=1', { authorization: `Bearer ${tokens.viewer}` })).length, 1);
      const ingest = await get('/api/alerts', { authorization: `Bearer ${tokens.ingest}` });
      assert.equal(ingest.statusCode, 403);
      assert.match(ingest.json().error.message, /viewer access level/);
      assert.equal((await get('/api/alerts', {})).statusCode, 401);
    });

    for (const [query, field] of [
      ['?limit=201', 'limit'],
      ['?limit=-1', 'limit'],
      ['?limit=1e9', 'limit'],
      ['?severity=apocalyptic', 'severity'],
      ['?rule=DROP%20TABLE%20server_alerts', 'rule'],
      ['?since=yesterday', 'since'],
      ['?since=2026-13-45T99:00:00Z', 'since'],
      ['?since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z', 'until'],
      ['?cursor=%27%20or%201%3D1--', 'cursor'],
      [`?cursor=${Buffer.from('1.x').toString('base64url')}x`, 'cursor'],
      [`?cursor=${'A'.repeat(300)}`, 'cursor'],
      ['?text=a&text=b', 'text'],
      ['?node=', 'node'],
      ['?entity=%00', 'entity'],
      ['?sort=asc', ''],
    ] as const) {
      it(`refuses the hostile query ${query.slice(0, 48)} with a 400 naming ${field || 'the query'}`, async () => {
        const response = await get(`/api/alerts${query}`);
        assert.equal(response.statusCode, 400, response.body);
        assert.equal(response.json().error.code, 'invalid-input');
        assert.match(response.json().error.message, new RegExp(`querystring${field ? `\\.${field}` : ''}`));
      });
    }
  });

  describe('report views', () => {
    const ingest = async (kind: string, report: Record<string, unknown>, key: string) => {
      const response = await post(`/api/reports/${kind}`, sampleEnvelope(kind, report), { authorization: `Bearer ${tokens.ingest}`, 'idempotency-key': key });
      assert.equal(response.statusCode, 201, response.body);
      return response.json().id as string;
    };

    it('shows a scan as flagged files, each with its evidence', async () => {
      const id = await ingest('scan', reportFixture('scan'), 'view-scan');
      const response = await get(`/api/reports/${id}/view`);
      assert.equal(response.statusCode, 200, response.body);
      const view = response.json();
      assert.equal(view.kind, 'scan');
      assert.deepEqual(view.problems, []);
      assert.equal(view.scan.files.length, 1);
      const file = view.scan.files[0];
      assert.equal(file.path, '/usr/bin/start-miner.sh');
      assert.equal(file.layerIndex, 0);
      assert.ok(file.evidence.length >= 5);
      assert.deepEqual(file.evidence[0], {
        summary: 'contains stratum URL "stratum+tcp://pool.supportxmr.com:3333" at offset 0x1a',
        rule: 'keyword.stratum-url',
        analyzer: 'content-rules',
        strength: 'strong',
        severity: null,
        location: 'usr/bin/start-miner.sh',
      });
      assert.deepEqual(view.scan.images, [{ image: 'docker-archive:shop-web.tar', digest: null, layers: 1, findings: 1, error: null }]);
    });

    it('shows an audit by check, failing checks first, each with its results and evidence', async () => {
      const id = await ingest('audit', reportFixture('audit'), 'view-audit');
      const view = (await get(`/api/reports/${id}/view`)).json();
      assert.equal(view.checks.scope, 'docker');
      assert.equal(view.checks.summary.fail, 5);
      const statuses = view.checks.checks.map((check: { status: string }) => check.status);
      assert.equal(statuses[0], 'fail');
      assert.deepEqual(statuses, [...statuses].sort((a: string, b: string) => ['fail', 'error', 'warn', 'pass', 'not-applicable'].indexOf(a) - ['fail', 'error', 'warn', 'pass', 'not-applicable'].indexOf(b)));
      const icc = view.checks.checks.find((check: { checkId: string }) => check.checkId === 'docker.daemon.icc');
      assert.equal(icc.status, 'fail');
      assert.ok(icc.references[0].startsWith('CIS Docker Benchmark'));
      assert.ok(icc.results[0].evidence.length > 0);
    });

    it('shows a probe by check with the request and answer as evidence, and every endpoint', async () => {
      const id = await ingest('probe', reportFixture('probe'), 'view-probe');
      const view = (await get(`/api/reports/${id}/view`)).json();
      const docker = view.checks.checks.find((check: { checkId: string }) => check.checkId === 'docker.api.unauthenticated');
      assert.equal(docker.severity, 'critical');
      assert.equal(docker.results[0].subject, '127.0.0.1:23750');
      assert.match(docker.results[0].evidence[0].summary, /^GET http:\/\/127\.0\.0\.1:23750\/version → 200/);
      assert.deepEqual(view.checks.endpoints.map((endpoint: { endpoint: string; status: string }) => `${endpoint.endpoint} ${endpoint.status}`), ['127.0.0.1:1 closed', '127.0.0.1:23750 open']);
    });

    it('shows a report of the wrong shape with a problem instead of failing', async () => {
      const id = await ingest('scan', { findings: 'many', images: [{ image: 7 }] }, 'view-garbage');
      const response = await get(`/api/reports/${id}/view`);
      assert.equal(response.statusCode, 200, response.body);
      const view = response.json();
      assert.deepEqual(view.scan.files, []);
      assert.ok(view.problems.includes('flagged files is not a list'), view.problems.join('; '));
      assert.ok(view.problems.includes('1 malformed images skipped'), view.problems.join('; '));
    });

    it('refuses a view of a report id that is not a uuid, and 404s an unknown one', async () => {
      assert.equal((await get('/api/reports/..%2F..%2Fetc/view')).statusCode, 400);
      assert.equal((await get('/api/reports/00000000-0000-4000-8000-000000000000/view')).statusCode, 404);
      assert.equal((await get('/api/reports/00000000-0000-4000-8000-000000000000/view', { authorization: `Bearer ${tokens.ingest}` })).statusCode, 403);
    });
  });
});
