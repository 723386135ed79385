/**
 * `nomine probe` against endpoints that misbehave: one that hangs, one that answers garbage, one that redirects
 * forever, one that streams a huge body, a name that does not resolve, a closed port, malformed targets and a range
 * too large. Each becomes a clear result for its target, within the bounds, and the run goes on to the others.
 */
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { endpointOf, outcomeOf, probeTargets } from '../helpers/probe-run.ts';
import { hugeBodyHandler, kubeApiHandler, redirectLoopHandler, serveGarbage, serveHang, serveHttp, type TestServer } from '../helpers/probe-servers.ts';
import { freePort } from '../helpers/registry-server.ts';

describe('hostile and broken endpoints', () => {
  let hang: TestServer;
  let garbage: TestServer;
  let loop: TestServer;
  let huge: TestServer;
  let healthy: TestServer;
  before(async () => {
    [hang, garbage, loop, huge, healthy] = await Promise.all([serveHang(), serveGarbage(), serveHttp(redirectLoopHandler()), serveHttp(hugeBodyHandler(64 * 1024 * 1024)), serveHttp(kubeApiHandler({ anonymous: true }))]);
  });
  after(async () => Promise.all([hang, garbage, loop, huge, healthy].map((server) => server?.stop())));

  it('reports each misbehaving endpoint for itself and still probes the healthy one', async () => {
    const closedPort = await freePort();
    const started = Date.now();
    const report = await probeTargets(
      [hang.name, garbage.name, loop.name, huge.name, `127.0.0.1:${closedPort}`, 'no-such-host.invalid:80', 'not a target', '10.0.0.0/8', healthy.name],
      {
        limits: { requestTimeoutMs: 800 },
        // No DNS server may be asked here: the lookup fails as a resolver answering NXDOMAIN would.
        lookup: async (name) => {
          throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
        },
      },
    );
    const elapsed = Date.now() - started;

    const hung = endpointOf(report, hang.name);
    assert.equal(hung.status, 'error');
    assert.match(hung.problems[0]?.message ?? '', /no complete answer within 800 ms|hangs/);

    const junk = endpointOf(report, garbage.name);
    assert.equal(junk.status, 'error');
    assert.match(junk.problems[0]?.message ?? '', /neither HTTP nor TLS/);

    const looping = endpointOf(report, loop.name);
    assert.ok(looping.problems.some((problem) => /redirect loop/.test(problem.message)), JSON.stringify(looping.problems));
    assert.equal(looping.status, 'error');

    const flood = endpointOf(report, huge.name);
    assert.equal(flood.status, 'open', 'a huge answer is read bounded, not fatal');
    assert.ok(huge.requests.length > 0);

    assert.equal(endpointOf(report, `127.0.0.1:${closedPort}`).status, 'closed');
    const dns = endpointOf(report, 'no-such-host.invalid:80');
    assert.equal(dns.status, 'error');
    assert.match(dns.problems[0]?.message ?? '', /cannot resolve no-such-host\.invalid \(ENOTFOUND\)/);

    assert.deepEqual(report.invalidTargets.map((invalid) => invalid.target), ['not a target', '10.0.0.0/8']);
    assert.match(report.invalidTargets[1]?.message ?? '', /at most \/16/);

    assert.equal(outcomeOf(report, healthy.name, 'kube.api.anonymous').status, 'fail');
    // The hang costs one timeout, not one per probe: everything finishes in a few timeouts' time.
    assert.ok(elapsed < 8_000, `took ${elapsed} ms`);
  });

  it('reads no more of a huge answer than limits.maxBodyBytes', async () => {
    const before = process.memoryUsage().rss;
    const report = await probeTargets([huge.name], { limits: { maxBodyBytes: 64 * 1024 } });
    assert.equal(endpointOf(report, huge.name).status, 'open');
    assert.ok(process.memoryUsage().rss - before < 48 * 1024 * 1024, 'the 64 MiB body was not buffered');
  });

  it('reports endpoints the deadline left untouched as skipped', async () => {
    const report = await probeTargets([hang.name, '127.0.0.1/30:9'], { limits: { requestTimeoutMs: 1_000, deadlineMs: 300, concurrency: 1 } });
    assert.equal(endpointOf(report, hang.name).status, 'error');
    const skipped = report.endpoints.find((endpoint) => endpoint.status === 'skipped');
    assert.ok(skipped, JSON.stringify(report.endpoints));
    assert.equal(skipped.target, '127.0.0.1/30:9');
    assert.equal(report.summary.skipped, 4);
  });
});
