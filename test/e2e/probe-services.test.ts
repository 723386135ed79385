/**
 * `nomine probe` against real parts on 127.0.0.1 — a second dockerd on plain TCP, Debian's docker-registry (open,
 * and with htpasswd), Debian's etcd (open, and with auth) — and against small servers answering as the Kubernetes
 * API server, kubelet, Portainer and the Kubernetes Dashboard document. Each check fails on the weak setup and
 * passes on the hardened one.
 */
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { startExposedDockerd, startEtcd, type Daemon } from '../helpers/probe-daemons.ts';
import { makeTestCertificates } from '../helpers/probe-certificates.ts';
import { dashboardHandler, kubeApiHandler, kubeletHandler, portainerHandler, serveHttp, type TestServer } from '../helpers/probe-servers.ts';
import { endpointOf, outcomeOf, probeTargets } from '../helpers/probe-run.ts';
import { startRegistryServer, type RegistryServer } from '../helpers/registry-server.ts';

describe('Docker Engine API', () => {
  let dockerd: Daemon;
  before(async () => (dockerd = await startExposedDockerd()));
  after(async () => dockerd?.stop());

  it('fails docker.api.unauthenticated on a dockerd listening on plain TCP, with /version, /info and /containers/json as evidence', async () => {
    const report = await probeTargets([dockerd.name]);
    const outcome = outcomeOf(report, dockerd.name, 'docker.api.unauthenticated');
    assert.equal(outcome.status, 'fail');
    assert.match(outcome.evidence[0]?.answer ?? '', /ApiVersion 1\.\d+/);
    assert.deepEqual(outcome.evidence.map((evidence) => evidence.request.split(' ')[1]), ['/version', '/info', '/containers/json'].map((path) => `http://${dockerd.name}${path}`));
    assert.equal(outcomeOf(report, dockerd.name, 'tls.plain-http').status, 'fail');
  });

  it('passes when the engine answers /_ping but refuses the API (an authorization plugin or auth proxy)', async () => {
    const guarded = await serveHttp((req, _body, res) => {
      if (req.url === '/_ping') return res.writeHead(200, { 'api-version': '1.41', 'content-type': 'text/plain' }).end('OK');
      res.writeHead(403, { 'content-type': 'application/json' }).end('{"message":"authorization denied by plugin opa: request rejected"}');
    });
    try {
      const report = await probeTargets([guarded.name]);
      assert.equal(outcomeOf(report, guarded.name, 'docker.api.unauthenticated').status, 'pass');
    } finally {
      await guarded.stop();
    }
  });
});

describe('Docker Registry v2', () => {
  let open: RegistryServer;
  let weak: RegistryServer;
  let strong: RegistryServer;
  before(async () => {
    [open, weak, strong] = await Promise.all([
      startRegistryServer(),
      startRegistryServer({ htpasswd: { username: 'admin', password: 'admin123' } }),
      startRegistryServer({ htpasswd: { username: 'ci', password: 'k9#Vt2-long-random-Secret' } }),
    ]);
  });
  after(async () => Promise.all([open?.stop(), weak?.stop(), strong?.stop()]));

  it('fails catalog and push on an open registry, and leaves no upload behind', async () => {
    const report = await probeTargets([open.host]);
    assert.deepEqual(endpointOf(report, open.host).services, ['registry']);
    assert.equal(outcomeOf(report, open.host, 'registry.catalog.anonymous').status, 'fail');
    const push = outcomeOf(report, open.host, 'registry.push.anonymous');
    assert.equal(push.status, 'fail');
    assert.match(push.detail, /opened and cancelled/);
    assert.match(push.evidence[0]?.request ?? '', /^POST .*\/v2\/nomine-probe-[0-9a-f]+\/blobs\/uploads\/$/);
    assert.match(push.evidence.at(-1)?.request ?? '', /^DELETE /);
    // No repository was created: the catalog is still empty.
    const catalog = (await (await fetch(`http://${open.host}/v2/_catalog`)).json()) as { repositories: string[] };
    assert.deepEqual(catalog.repositories, []);
  });

  it('finds a weak password from the shipped list, one attempt per credential', async () => {
    const report = await probeTargets([weak.host]);
    const credentials = outcomeOf(report, weak.host, 'registry.credentials.default');
    assert.equal(credentials.status, 'fail');
    assert.match(credentials.detail, /admin/);
    assert.equal(outcomeOf(report, weak.host, 'registry.catalog.anonymous').status, 'pass');
    assert.equal(outcomeOf(report, weak.host, 'registry.push.anonymous').status, 'pass');
  });

  it('passes every registry check when htpasswd holds a strong password', async () => {
    const report = await probeTargets([strong.host]);
    for (const check of ['registry.catalog.anonymous', 'registry.push.anonymous', 'registry.credentials.default'] as const) {
      assert.equal(outcomeOf(report, strong.host, check).status, 'pass', check);
    }
    assert.equal(outcomeOf(report, strong.host, 'tls.plain-http').status, 'fail');
  });
});

describe('etcd', () => {
  let open: Daemon;
  let hardened: Daemon;
  before(async () => {
    [open, hardened] = await Promise.all([startEtcd(), startEtcd({ auth: { password: 'rootpw-long-random' } })]);
  });
  after(async () => Promise.all([open?.stop(), hardened?.stop()]));

  it('fails etcd.unauthenticated when keys are readable through v2 and the v3 gateway', async () => {
    const report = await probeTargets([open.name]);
    const outcome = outcomeOf(report, open.name, 'etcd.unauthenticated');
    assert.equal(outcome.status, 'fail');
    assert.match(outcome.detail, /v3 range \(1 keys\)/);
    assert.ok(outcome.evidence.some((evidence) => evidence.request.startsWith('POST') && evidence.request.includes('/v3/kv/range')));
  });

  it('passes when authentication is enabled', async () => {
    const report = await probeTargets([hardened.name]);
    const outcome = outcomeOf(report, hardened.name, 'etcd.unauthenticated');
    assert.equal(outcome.status, 'pass', JSON.stringify(outcome));
  });
});

describe('Kubernetes API server, kubelet and consoles (documented answers)', () => {
  const servers: TestServer[] = [];
  const start = async (...args: Parameters<typeof serveHttp>) => {
    const server = await serveHttp(...args);
    servers.push(server);
    return server;
  };
  after(async () => Promise.all(servers.map((server) => server.stop())));
  const certificates = makeTestCertificates();

  it('fails kube.api.anonymous and kube.api.insecure-port on an anonymous plain-HTTP API server', async () => {
    const api = await start(kubeApiHandler({ anonymous: true }));
    const report = await probeTargets([api.name]);
    assert.equal(outcomeOf(report, api.name, 'kube.api.anonymous').status, 'fail');
    assert.match(outcomeOf(report, api.name, 'kube.api.anonymous').detail, /pods, secrets, nodes/);
    assert.equal(outcomeOf(report, api.name, 'kube.api.insecure-port').status, 'fail');
  });

  it('passes both on an HTTPS API server that answers 403 Forbidden for system:anonymous', async () => {
    const api = await start(kubeApiHandler({ anonymous: false }), { tls: certificates.caIssued });
    const report = await probeTargets([`https://${api.name}`]);
    assert.equal(outcomeOf(report, api.name, 'kube.api.anonymous').status, 'pass');
    assert.equal(outcomeOf(report, api.name, 'kube.api.insecure-port').status, 'pass');
    assert.match(outcomeOf(report, api.name, 'kube.api.anonymous').evidence[1]?.answer ?? '', /^403 .*system:anonymous/);
  });

  it('fails kubelet.read-only-port on a plain-HTTP kubelet and kubelet.anonymous on an open HTTPS one', async () => {
    const readOnly = await start(kubeletHandler({ open: true }));
    const anonymous = await start(kubeletHandler({ open: true }), { tls: certificates.caIssued });
    const report = await probeTargets([readOnly.name, `https://${anonymous.name}`]);
    assert.equal(outcomeOf(report, readOnly.name, 'kubelet.read-only-port').status, 'fail');
    const outcome = outcomeOf(report, anonymous.name, 'kubelet.anonymous');
    assert.equal(outcome.status, 'fail');
    assert.ok(outcome.evidence.some((evidence) => evidence.request.endsWith('/runningpods/')));
  });

  it('passes kubelet.anonymous on a kubelet at 127.0.0.3:10250 that answers 401 Unauthorized', async () => {
    const hardened = await start(kubeletHandler({ open: false }), { tls: certificates.caIssued, host: '127.0.0.3', port: 10250 });
    const report = await probeTargets([hardened.name]);
    assert.equal(outcomeOf(report, hardened.name, 'kubelet.anonymous').status, 'pass');
    assert.equal(endpointOf(report, hardened.name).scheme, 'https');
  });

  it('fails web-console.default-credentials on Portainer with a shipped password, trying each credential once', async () => {
    const weak = await start(portainerHandler({ password: 'tryportainer' }));
    const strong = await start(portainerHandler({ password: 'a-long-random-unlisted-password' }));
    const report = await probeTargets([weak.name, strong.name]);
    assert.equal(outcomeOf(report, weak.name, 'web-console.default-credentials').status, 'fail');
    assert.equal(outcomeOf(report, strong.name, 'web-console.default-credentials').status, 'pass');
    const logins = strong.requests.filter((request) => request === 'POST /api/auth');
    assert.equal(logins.length, 3, 'one attempt per shipped Portainer credential');
  });

  it('fails web-console.login-skippable on a dashboard with --enable-skip-login and passes without it', async () => {
    const skippable = await start(dashboardHandler({ skippable: true }));
    const locked = await start(dashboardHandler({ skippable: false }));
    const report = await probeTargets([skippable.name, locked.name]);
    assert.equal(outcomeOf(report, skippable.name, 'web-console.login-skippable').status, 'fail');
    assert.equal(outcomeOf(report, locked.name, 'web-console.login-skippable').status, 'pass');
  });

  it('judges certificates: self-signed fails, CA-issued passes, and both are expired on a clock two days on', async () => {
    const selfSigned = await start(kubeApiHandler({ anonymous: false }), { tls: certificates.selfSigned });
    const issued = await start(kubeApiHandler({ anonymous: false }), { tls: certificates.caIssued });
    const today = await probeTargets([`https://${selfSigned.name}`, `https://${issued.name}`]);
    assert.equal(outcomeOf(today, selfSigned.name, 'tls.self-signed').status, 'fail');
    assert.equal(outcomeOf(today, issued.name, 'tls.self-signed').status, 'pass');
    assert.equal(outcomeOf(today, issued.name, 'tls.expired').status, 'pass');
    assert.equal(outcomeOf(today, issued.name, 'tls.plain-http').status, 'pass');
    const later = await probeTargets([`https://${issued.name}`], { now: () => Date.now() + 3 * 86_400_000 });
    const expired = outcomeOf(later, issued.name, 'tls.expired');
    assert.equal(expired.status, 'fail');
    assert.match(expired.detail, /expired on/);
  });
});
