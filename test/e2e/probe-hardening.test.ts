/**
 * `nomine probe` checks shown against a weak and a hardened setup, with real parts where they can run here: a
 * dockerd serving the Engine API over TLS with and without client verification, Harbor, Rancher and Shipyard
 * answering their documented login APIs, and a certificate issued with past dates by `openssl ca`.
 */
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { makeDaemonCertificates, makeDatedCertificate, makeTestCertificates, type CertificateFiles } from '../helpers/probe-certificates.ts';
import { startTlsDockerd, type Daemon } from '../helpers/probe-daemons.ts';
import { harborHandler, kubeApiHandler, rancherHandler, serveHttp, shipyardHandler, type Handler, type LoginLog, type TestServer } from '../helpers/probe-servers.ts';
import { endpointOf, outcomeOf, probeTargets } from '../helpers/probe-run.ts';
import { loadProbeCredentials } from '../../src/probe/probe-credentials.ts';

describe('Docker Engine API over TLS (real dockerd)', () => {
  let files: CertificateFiles | undefined;
  let verifying: Daemon | undefined;
  let tlsOnly: Daemon | undefined;
  before(async () => {
    files = makeDaemonCertificates();
    const started = await Promise.allSettled([startTlsDockerd(files, { verifyClients: true }), startTlsDockerd(files, { verifyClients: false })]);
    [verifying, tlsOnly] = started.map((result) => (result.status === 'fulfilled' ? result.value : undefined));
    const failed = started.find((result) => result.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
  });
  after(async () => {
    await Promise.all([verifying?.stop(), tlsOnly?.stop()]);
    files?.remove();
  });

  it('does not report docker.api.unauthenticated when --tlsverify requires client certificates', async () => {
    const daemon = verifying!;
    const report = await probeTargets([daemon.name]);
    const endpoint = endpointOf(report, daemon.name);
    const docker = endpoint.outcomes.find((outcome) => outcome.checkId === 'docker.api.unauthenticated');
    assert.notEqual(docker?.status, 'fail', JSON.stringify(endpoint, null, 1).slice(0, 3000));
    assert.ok(!endpoint.outcomes.some((outcome) => outcome.status === 'fail' && outcome.checkId.startsWith('docker.')), JSON.stringify(endpoint.outcomes));
    // Mutual TLS is an answer, not a broken endpoint: reported as closed to clients without a certificate, so the
    // most common hardened setup (2376 with --tlsverify) does not turn the run into an error (exit 2).
    assert.equal(endpoint.status, 'closed', JSON.stringify(endpoint));
    assert.match(JSON.stringify(endpoint.problems), /client certificate/);
  });

  it('fails docker.api.unauthenticated when dockerd has --tls but not --tlsverify (anyone can talk TLS to it)', async () => {
    const daemon = tlsOnly!;
    const report = await probeTargets([daemon.name]);
    const outcome = outcomeOf(report, daemon.name, 'docker.api.unauthenticated');
    assert.equal(outcome.status, 'fail', JSON.stringify(outcome));
    assert.match(outcome.evidence[0]?.request ?? '', new RegExp(`^GET https://${daemon.name}/version`));
    assert.match(outcome.evidence[0]?.answer ?? '', /ApiVersion 1\.\d+/);
    assert.equal(outcomeOf(report, daemon.name, 'tls.plain-http').status, 'pass');
    assert.equal(outcomeOf(report, daemon.name, 'tls.self-signed').status, 'pass');
  });
});

describe('web consoles with default credentials (documented login APIs)', () => {
  const servers: TestServer[] = [];
  after(async () => Promise.all(servers.map((server) => server.stop())));
  const start = async (handler: Handler) => {
    const server = await serveHttp(handler);
    servers.push(server);
    return server;
  };

  const products = [
    { product: 'harbor', handler: harborHandler, shipped: 'Harbor12345' },
    { product: 'rancher', handler: rancherHandler, shipped: 'admin' },
    { product: 'shipyard', handler: shipyardHandler, shipped: 'shipyard' },
  ] as const;

  for (const { product, handler, shipped } of products) {
    it(`${product}: fails with the shipped password, passes with another, each credential tried at most once`, async () => {
      const shippedCount = (await loadProbeCredentials()).consoles[product].length;
      const weakLogins: LoginLog = [];
      const strongLogins: LoginLog = [];
      const weak = await start(handler({ password: shipped, logins: weakLogins }));
      const strong = await start(handler({ password: 'a-long-random-unlisted-password', logins: strongLogins }));
      const report = await probeTargets([weak.name, strong.name]);

      assert.deepEqual(endpointOf(report, weak.name).services, [product]);
      const failing = outcomeOf(report, weak.name, 'web-console.default-credentials');
      assert.equal(failing.status, 'fail', JSON.stringify(failing));
      assert.match(failing.detail, new RegExp(`^${product}: user "admin"`));
      assert.equal(weakLogins.at(-1), `admin:${shipped}`, 'the login that succeeded was the shipped one');

      const passing = outcomeOf(report, strong.name, 'web-console.default-credentials');
      assert.equal(passing.status, 'pass', JSON.stringify(passing));
      assert.equal(strongLogins.length, shippedCount, `every shipped ${product} credential tried: ${strongLogins.join(', ')}`);
      for (const logins of [weakLogins, strongLogins]) {
        assert.equal(new Set(logins).size, logins.length, `no credential tried twice: ${logins.join(', ')}`);
      }
    });
  }
});

describe('certificate validity dates (a really expired certificate)', () => {
  const servers: TestServer[] = [];
  after(async () => Promise.all(servers.map((server) => server.stop())));

  it('fails tls.expired on a certificate valid 2020-01-01 to 2020-01-02 and passes on a current one, on the real clock', async () => {
    const expiredCert = makeDatedCertificate({ start: '20200101000000Z', end: '20200102000000Z' });
    const expired = await serveHttp(kubeApiHandler({ anonymous: false }), { tls: expiredCert });
    servers.push(expired);
    const valid = await serveHttp(kubeApiHandler({ anonymous: false }), { tls: makeTestCertificates().caIssued });
    servers.push(valid);
    const report = await probeTargets([`https://${expired.name}`, `https://${valid.name}`]);

    const failing = outcomeOf(report, expired.name, 'tls.expired');
    assert.equal(failing.status, 'fail', JSON.stringify(failing));
    assert.match(failing.detail, /expired on Jan +2 00:00:00 2020 GMT/);
    assert.match(failing.evidence[0]?.answer ?? '', /CERT_HAS_EXPIRED/);
    assert.equal(outcomeOf(report, expired.name, 'tls.self-signed').status, 'pass');

    const passing = outcomeOf(report, valid.name, 'tls.expired');
    assert.equal(passing.status, 'pass', JSON.stringify(passing));
  });
});
