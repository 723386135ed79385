/**
 * `nomine scan` as a user runs it: the built CLI (`node bin/nomine.js`) in a child process, each run with its own
 * $NOMINE_HOME, against images written in every format nomine reads, loaded into the real Docker Engine, pushed
 * with skopeo to Debian's docker-registry on 127.0.0.1 (anonymous and behind htpasswd), and a plain directory.
 * Assertions are on what a person or a pipeline notices: the exit code, the JSON/SARIF/table output, stderr.
 */
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { z } from 'zod';
import { buildMinerFixtures } from '../helpers/fixtures.ts';
import { makeLayer, sha256, writeDockerArchive, writeOciArchive, writeOciLayout, type BuiltLayer, type LayerSpec } from '../helpers/image-builder.ts';
import { startRegistryServer, type RegistryServer } from '../helpers/registry-server.ts';
import { describeRun, parseStdout, runCli, tempHome, type CliResult, type RunOptions } from '../helpers/run-cli.ts';

const run = promisify(execFile);
const dockerSocket = '/var/run/docker.sock';
const noDocker = existsSync(dockerSocket) ? false : `no Docker engine socket at ${dockerSocket}`;

const minerPath = '/usr/local/bin/kswapd0';
const benignPaths = ['/usr/local/bin/kv-daemon', '/usr/local/bin/env', '/etc/kv/kv.conf', '/etc/passwd', '/etc/os-release'];
const credentials = { username: 'scanner', password: `pw-${randomBytes(6).toString('hex')}` };

interface Finding {
  image: string;
  path: string;
  layer: string;
  layerIndex: number;
  sha256: string;
  verdict: string;
  severity: string;
  evidence: { analyzer: string; rule: string; strength: string; summary: string }[];
  presentInFinalImage: boolean;
  removedBy?: { by: string; layerIndex: number; layer: string };
}
interface JsonReport {
  findings: Finding[];
  metadata: { image: string; verdict: string; severity: string; evidence: { rule: string; summary: string }[] }[];
  images: { image: string; names: string[]; layers: { key: string; fromCache: boolean }[]; error?: { code: string; part?: string; message: string }; problems: { code: string; part: string }[] }[];
}

function assertExit(result: CliResult, code: number): void {
  assert.equal(result.code, code, describeRun(result));
}

/** What every format must show for the tampered image: the one miner, where it came from, and nothing benign. */
function assertMinerFound(result: CliResult, expected: { layer: string; sha256: string }): JsonReport {
  assertExit(result, 1);
  const report = parseStdout<JsonReport>(result);
  assert.deepEqual(report.images.map((image) => image.error), [undefined], 'the image was scanned in full');
  const paths = report.findings.map((finding) => finding.path);
  assert.deepEqual(paths, [minerPath], `only the miner is flagged; benign files (${benignPaths.join(', ')}) are not`);
  const finding = report.findings[0]!;
  assert.equal(finding.layer, expected.layer, 'layer is the diff_id of the layer that added the miner');
  assert.equal(finding.sha256, expected.sha256, "sha256 is the fixture's real SHA-256");
  assert.equal(finding.verdict, 'malicious');
  assert.equal(finding.severity, 'critical');
  assert.equal(finding.presentInFinalImage, true);
  assert.ok(finding.evidence.length > 0, 'evidence explains the verdict');
  for (const signal of finding.evidence) {
    assert.equal(typeof signal.summary, 'string');
    assert.ok(signal.summary.length > 0 && signal.rule.length > 0, JSON.stringify(signal));
  }
  assert.ok(finding.evidence.some((signal) => signal.strength === 'conclusive'), 'a conclusive signal (YARA rule or known hash) fired');
  return report;
}

/** An error a person can act on: exit 2 and one line on stderr naming the part at fault. */
function assertOneLineError(result: CliResult, part: RegExp): void {
  assertExit(result, 2);
  const lines = result.stderr.split('\n').filter((line) => line.trim() !== '');
  assert.ok(lines.length >= 1, `an error on stderr\n${describeRun(result)}`);
  assert.match(lines[0]!, part, describeRun(result));
  assert.ok(!/^\s+at /m.test(result.stderr), `no stack trace\n${result.stderr}`);
}

/** The image's `error` in the JSON report, for a source that could not be read in full. */
function imageError(result: CliResult): { code: string; part?: string; message: string } {
  assertExit(result, 2);
  const report = parseStdout<JsonReport>(result);
  assert.equal(report.images.length, 1);
  const error = report.images[0]!.error;
  assert.ok(error, `the image report carries an error\n${describeRun(result)}`);
  return error;
}

const stripAnsi = (text: string) => text.replace(/\x1b\[[0-9;]*m/g, '');

// Each run is a separate process, mostly waiting on its own start-up; two at a time halves the wall time on 2 cores.
const concurrency = 2;

describe('nomine scan, end to end', { timeout: 240_000, concurrency }, () => {
  let work: string;
  let minerSha: string;
  let minerDiffId: string;
  let lowerOnlyArchive: string;
  let legacyArchive: string;
  let ociDockerArchive: string;
  let ociLayout: string;
  let ociArchiveFile: string;
  let cleanLayout: string;
  let whiteoutArchive: string;
  let whiteoutDiffIds: string[];
  let rootfsDir: string;
  let xmrigCmdArchive: string;
  let knownMinerArchive: string;
  let corruptLayout: string;
  let corruptDigest: string;
  const daemonTag = `nomine-e2e-scan/app:${randomBytes(4).toString('hex')}`;
  const homes: string[] = [];

  /** A fresh $NOMINE_HOME per run unless one is passed, so no test sees another's layer cache. */
  async function scan(args: string[], options: Partial<RunOptions> = {}): Promise<CliResult> {
    const home = options.home ?? (await tempHome());
    if (!options.home) homes.push(home);
    return runCli(['scan', ...args], { timeoutMs: 90_000, ...options, home });
  }

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'nomine-e2e-scan-'));
    const fixtures = await buildMinerFixtures({ benignCount: 0 });
    const miner = fixtures.miners.find((fixture) => fixture.name === 'kswapd0')!;
    const obfuscated = fixtures.miners.find((fixture) => fixture.disguise === 'obfuscated')!;
    const kvDaemon = fixtures.benign.find((fixture) => fixture.name === 'kv-daemon')!;
    const minerBytes = await readFile(miner.path);
    minerSha = createHash('sha256').update(minerBytes).digest('hex');

    const base: LayerSpec = {
      dirs: ['etc'],
      files: [
        { path: 'etc/passwd', content: 'root:x:0:0:root:/root:/bin/sh\n' },
        { path: 'etc/os-release', content: 'NAME="nomine e2e"\nID=nomine\n' },
      ],
    };
    const minerLayer: LayerSpec = { dirs: ['usr', 'usr/local', 'usr/local/bin'], files: [{ path: 'usr/local/bin/kswapd0', content: minerBytes, mode: 0o755 }] };
    const app: LayerSpec = {
      dirs: ['usr', 'usr/local', 'usr/local/bin', 'etc/kv'],
      files: [
        { path: 'usr/local/bin/kv-daemon', content: await readFile(kvDaemon.path), mode: 0o755 },
        { path: 'usr/local/bin/env', content: await readFile('/usr/bin/env'), mode: 0o755 },
        { path: 'etc/kv/kv.conf', content: 'port=6380\nmaxmemory=64mb\n' },
      ],
    };
    const layers = [base, minerLayer, app];
    minerDiffId = (await makeLayer(minerLayer)).diffId;

    legacyArchive = join(work, 'legacy.tar');
    await writeDockerArchive(legacyArchive, { layers, repoTags: [daemonTag], format: 'legacy' });
    ociDockerArchive = join(work, 'oci-docker.tar');
    await writeDockerArchive(ociDockerArchive, { layers, repoTags: ['nomine-e2e/app:oci'], format: 'oci' });
    ociLayout = join(work, 'layout');
    await writeOciLayout(ociLayout, { layers, compression: 'gzip', refName: 'latest' });
    ociArchiveFile = join(work, 'image.oci.tar');
    await writeOciArchive(ociArchiveFile, { layers, compression: 'zstd', refName: 'latest' });
    cleanLayout = join(work, 'clean-layout');
    await writeOciLayout(cleanLayout, { layers: [base, app], compression: 'gzip', refName: 'latest' });

    whiteoutArchive = join(work, 'whiteout.tar');
    const dropper: LayerSpec = { dirs: ['tmp'], files: [{ path: 'tmp/kswapd0', content: minerBytes, mode: 0o755 }] };
    const cleanup: LayerSpec = { whiteouts: ['tmp/kswapd0'] };
    const whiteoutImage = await writeDockerArchive(whiteoutArchive, { layers: [base, dropper, cleanup, app] });
    whiteoutDiffIds = whiteoutImage.layers.map((layer) => layer.diffId);

    lowerOnlyArchive = join(work, 'lower-only.tar');
    await writeDockerArchive(lowerOnlyArchive, {
      layers: [base, { dirs: ['usr', 'usr/sbin'], files: [{ path: 'usr/sbin/php-fpm-pool', content: await readFile(obfuscated.path), mode: 0o755 }] }],
    });

    xmrigCmdArchive = join(work, 'xmrig-cmd.tar');
    await writeDockerArchive(xmrigCmdArchive, {
      layers: [base, app],
      repoTags: ['acme/web:2.3'],
      config: { config: { Cmd: ['xmrig', '-o', 'stratum+tcp://pool.minexmr.com:4444', '--donate-level', '1'], Env: ['PATH=/usr/local/bin:/usr/bin:/bin'] } },
    });
    knownMinerArchive = join(work, 'known-miner.tar');
    await writeDockerArchive(knownMinerArchive, { layers: [base, app], repoTags: ['kannix/monero-miner:latest'] });

    // A gzip layer whose deflate stream is damaged after the header; the manifest digest matches the damaged blob,
    // so the failure is the decompression, not a digest mismatch.
    const good = await makeLayer(minerLayer, 'gzip');
    const damaged = Buffer.from(good.blob);
    for (let i = 64; i < Math.min(damaged.length - 16, 2048); i += 1) damaged[i] = damaged[i]! ^ 0x5a;
    corruptDigest = sha256(damaged);
    const corrupt: BuiltLayer = { ...good, blob: damaged, digest: corruptDigest, size: damaged.length };
    corruptLayout = join(work, 'corrupt-layout');
    await writeOciLayout(corruptLayout, { layers: [await makeLayer(base, 'gzip'), corrupt], refName: 'latest' });

    rootfsDir = join(work, 'rootfs');
    const rootfsFiles: [string, Buffer | string, number][] = [
      ['etc/passwd', 'root:x:0:0:root:/root:/bin/sh\n', 0o644],
      ['etc/os-release', 'NAME="nomine e2e"\n', 0o644],
      ['etc/kv/kv.conf', 'port=6380\n', 0o644],
      ['usr/local/bin/kv-daemon', await readFile(kvDaemon.path), 0o755],
      ['usr/local/bin/env', await readFile('/usr/bin/env'), 0o755],
      ['usr/local/bin/kswapd0', minerBytes, 0o755],
    ];
    for (const [path, content, mode] of rootfsFiles) {
      await mkdir(dirname(join(rootfsDir, path)), { recursive: true });
      await writeFile(join(rootfsDir, path), content);
      await chmod(join(rootfsDir, path), mode);
    }
  });

  after(async () => {
    if (!noDocker) await run('docker', ['rmi', '--force', daemonTag]).catch(() => undefined);
    for (const home of homes) await rm(home, { recursive: true, force: true });
    if (work) await rm(work, { recursive: true, force: true });
  });

  describe('finds the miner in a middle layer, and only the miner, in every source format', { concurrency }, () => {
    it('reads a docker save archive in the legacy format', async () => {
      assertMinerFound(await scan([`docker-archive:${legacyArchive}`, '--json']), { layer: minerDiffId, sha256: minerSha });
    });

    it('reads a docker save archive in the OCI format of docker 25+', async () => {
      assertMinerFound(await scan([`docker-archive:${ociDockerArchive}`, '--json']), { layer: minerDiffId, sha256: minerSha });
    });

    it('reads an OCI image layout directory with gzip layers', async () => {
      assertMinerFound(await scan([`oci:${ociLayout}:latest`, '--json']), { layer: minerDiffId, sha256: minerSha });
    });

    it('reads an OCI archive with zstd layers', async () => {
      assertMinerFound(await scan([`oci-archive:${ociArchiveFile}:latest`, '--json']), { layer: minerDiffId, sha256: minerSha });
    });

    it('reads an image loaded into the real Docker Engine', { skip: noDocker }, async () => {
      await run('docker', ['load', '-i', legacyArchive]);
      try {
        const report = assertMinerFound(await scan([`docker-daemon:${daemonTag}`, '--json']), { layer: minerDiffId, sha256: minerSha });
        assert.ok(report.images[0]!.names.includes(daemonTag) || report.images[0]!.image.includes(daemonTag), JSON.stringify(report.images[0]));
      } finally {
        await run('docker', ['rmi', '--force', daemonTag]).catch(() => undefined);
      }
    });

    it('reads a plain root file system directory', async () => {
      assertMinerFound(await scan([`rootfs:${rootfsDir}`, '--json']), { layer: `rootfs:${rootfsDir}`, sha256: minerSha });
    });
  });

  describe('registries on 127.0.0.1 (Debian docker-registry, images pushed with skopeo)', { concurrency }, () => {
    let open: RegistryServer;
    let secured: RegistryServer;
    const pushed = [
      { repo: 'e2e/app', tag: '1.0', tampered: false },
      { repo: 'e2e/app', tag: '1.1', tampered: false },
      { repo: 'e2e/app', tag: '1.2', tampered: true },
      { repo: 'e2e/tools', tag: '1.0', tampered: false },
      { repo: 'e2e/tools', tag: '2.0', tampered: false },
    ];

    const push = (layout: string, destination: string, creds?: string) =>
      run('skopeo', ['copy', '-q', '--dest-tls-verify=false', ...(creds ? ['--dest-creds', creds] : []), `oci:${layout}:latest`, `docker://${destination}`]);

    before(async () => {
      [open, secured] = await Promise.all([startRegistryServer(), startRegistryServer({ htpasswd: credentials })]);
      for (const image of pushed) await push(image.tampered ? ociLayout : cleanLayout, `${open.host}/${image.repo}:${image.tag}`);
      await push(ociLayout, `${secured.host}/private/app:1.2`, `${credentials.username}:${credentials.password}`);
    });

    after(async () => {
      await open?.stop();
      await secured?.stop();
    });

    it('reads one image from an anonymous registry', async () => {
      assertMinerFound(await scan([`docker://${open.host}/e2e/app:1.2`, '--json']), { layer: minerDiffId, sha256: minerSha });
    });

    it('reads one image behind htpasswd auth with --username and --password-stdin', async () => {
      const result = await scan([`docker://${secured.host}/private/app:1.2`, '--json', '--username', credentials.username, '--password-stdin'], { input: `${credentials.password}\n` });
      assertMinerFound(result, { layer: minerDiffId, sha256: minerSha });
    });

    it('reads one image behind htpasswd auth with NOMINE_REGISTRY_USERNAME and NOMINE_REGISTRY_PASSWORD', async () => {
      const result = await scan([`docker://${secured.host}/private/app:1.2`, '--json'], {
        env: { NOMINE_REGISTRY_USERNAME: credentials.username, NOMINE_REGISTRY_PASSWORD: credentials.password },
      });
      assertMinerFound(result, { layer: minerDiffId, sha256: minerSha });
    });

    it('scans every repository and tag of a registry and finds the one tampered tag', async () => {
      const result = await scan(['registry', open.host, '--json']);
      assertExit(result, 1);
      const report = parseStdout<JsonReport>(result);
      const scanned = report.images.map((image) => image.image);
      for (const image of pushed) {
        assert.ok(scanned.some((name) => name.endsWith(`${image.repo}:${image.tag}`)), `${image.repo}:${image.tag} was scanned: ${scanned.join(', ')}`);
      }
      assert.equal(report.images.length, pushed.length, scanned.join(', '));
      assert.deepEqual(report.images.map((image) => image.error).filter(Boolean), []);
      assert.ok(report.findings.length > 0);
      for (const finding of report.findings) {
        assert.match(finding.image, /e2e\/app:1\.2$/, `only the tampered tag has findings: ${finding.image} ${finding.path}`);
        assert.equal(finding.path, minerPath);
        assert.equal(finding.sha256, minerSha);
      }
    });

    it('reports a repository the registry does not have as not found (exit 2)', async () => {
      const error = imageError(await scan([`docker://${open.host}/e2e/missing:1.0`, '--json']));
      assert.equal(error.code, 'not-found', JSON.stringify(error));
      assert.match(`${error.part} ${error.message}`, /e2e\/missing|127\.0\.0\.1/, JSON.stringify(error));
    });

    it('reports a wrong password as unauthorized (exit 2)', async () => {
      const result = await scan([`docker://${secured.host}/private/app:1.2`, '--json', '--username', credentials.username, '--password-stdin'], { input: 'not-the-password\n' });
      const error = imageError(result);
      assert.equal(error.code, 'unauthorized', JSON.stringify(error));
      assert.match(error.part ?? '', new RegExp(secured.host.replace(/\./g, '\\.')), JSON.stringify(error));
      assert.ok(!result.stdout.includes(credentials.password) && !result.stderr.includes('not-the-password'), 'no password is echoed');
    });

    it('says on stderr, in one line, which image could not be scanned and why', async () => {
      // Image-level failures land in the report's `error`; a pipeline that writes the report to a file (-o) or
      // parses stdout must still see on stderr why the exit code is 2.
      const result = await scan([`docker://${open.host}/e2e/missing:1.0`, '--json']);
      assertOneLineError(result, /e2e\/missing|127\.0\.0\.1/);
    });
  });

  it('reports a miner that a later layer deleted, as not present in the final image and removed by that layer', async () => {
    const result = await scan([`docker-archive:${whiteoutArchive}`, '--json']);
    assertExit(result, 1);
    const report = parseStdout<JsonReport>(result);
    const finding = report.findings.find((candidate) => candidate.path === '/tmp/kswapd0');
    assert.ok(finding, JSON.stringify(report.findings.map((f) => f.path)));
    assert.equal(finding.presentInFinalImage, false);
    assert.equal(finding.layer, whiteoutDiffIds[1]);
    assert.equal(finding.sha256, minerSha);
    assert.equal(finding.removedBy?.by, 'whiteout');
    assert.equal(finding.removedBy?.layerIndex, 2);
    assert.equal(finding.removedBy?.layer, whiteoutDiffIds[2]);
  });

  it('serves every layer from the layer cache on a second scan with the same NOMINE_HOME, and none with --no-cache', async () => {
    const home = await tempHome();
    homes.push(home);
    const summary = (report: JsonReport) => report.findings.map(({ path, layer, sha256: hash, verdict, severity }) => ({ path, layer, sha256: hash, verdict, severity }));
    const first = await scan([`docker-archive:${legacyArchive}`, '--json'], { home });
    const second = await scan([`docker-archive:${legacyArchive}`, '--json'], { home });
    const uncached = await scan([`docker-archive:${legacyArchive}`, '--json', '--no-cache'], { home });
    const [a, b, c] = [first, second, uncached].map((result) => assertMinerFound(result, { layer: minerDiffId, sha256: minerSha }));
    assert.deepEqual(a!.images[0]!.layers.map((layer) => layer.fromCache), [false, false, false], 'a fresh data directory has nothing cached');
    assert.deepEqual(b!.images[0]!.layers.map((layer) => layer.fromCache), [true, true, true]);
    assert.deepEqual(c!.images[0]!.layers.map((layer) => layer.fromCache), [false, false, false]);
    assert.deepEqual(summary(b!), summary(a!));
    assert.deepEqual(summary(c!), summary(a!));
    assert.ok(existsSync(join(home, 'nomine.db')), 'the cache lives in $NOMINE_HOME/nomine.db');
  });

  it('exits 0 with --fail-on critical when the only finding is below critical', async () => {
    const result = await scan([`docker-archive:${lowerOnlyArchive}`, '--json', '--fail-on', 'critical']);
    assertExit(result, 0);
    const report = parseStdout<JsonReport>(result);
    assert.equal(report.findings.length, 1, JSON.stringify(report.findings.map((f) => [f.path, f.severity])));
    assert.notEqual(report.findings[0]!.severity, 'critical');
    assert.equal(report.findings[0]!.path, '/usr/sbin/php-fpm-pool');
  });

  it('exits 0 with an empty findings list for a clean image', async () => {
    const result = await scan([`oci:${cleanLayout}:latest`, '--json']);
    assertExit(result, 0);
    const report = parseStdout<JsonReport>(result);
    assert.deepEqual(report.findings, []);
    assert.deepEqual(report.metadata, []);
    assert.equal(report.images[0]!.error, undefined);
  });

  it('writes SARIF 2.1.0 that holds the required fields of the schema', async () => {
    const result = await scan([`docker-archive:${legacyArchive}`, '--format', 'sarif']);
    assertExit(result, 1);
    const log = sarifLog.parse(parseStdout(result));
    assert.equal(log.version, '2.1.0');
    const runOne = log.runs[0]!;
    assert.equal(runOne.tool.driver.name, 'nomine');
    const ruleIds = new Set((runOne.tool.driver.rules ?? []).map((rule) => rule.id));
    assert.ok(runOne.results.length > 0);
    for (const sarifResult of runOne.results) {
      assert.ok(sarifResult.ruleId && ruleIds.has(sarifResult.ruleId), `ruleId ${sarifResult.ruleId} is declared in tool.driver.rules`);
      assert.ok(sarifResult.level, 'level is set');
      assert.ok(sarifResult.locations && sarifResult.locations.length > 0, 'locations are set');
    }
    const miner = runOne.results.find((r) => r.locations?.some((l) => l.physicalLocation?.artifactLocation?.uri === minerPath.slice(1)));
    assert.ok(miner, 'the miner is located by its path in the image');
    assert.equal(miner.level, 'error');
    assert.ok(runOne.invocations?.every((invocation) => invocation.executionSuccessful));
  });

  it('prints a table without a TTY that names the flagged file and its evidence, without colour codes', async () => {
    const result = await scan([`docker-archive:${legacyArchive}`]);
    assertExit(result, 1);
    assert.equal(stripAnsi(result.stdout), result.stdout, 'no ANSI colour codes when stdout is not a terminal');
    assert.ok(result.stdout.includes(minerPath), result.stdout);
    assert.match(result.stdout, /CRITICAL/);
    assert.match(result.stdout, /malicious/);
    // Cells wrap; the "why" column is last, so dropping borders and folding whitespace puts its text back together.
    const text = result.stdout.replace(/[│┌┐└┘├┤┬┴┼─]/g, ' ').replace(/\s+/g, ' ');
    assert.ok(text.includes('contains stratum URL "stratum+tcp://pool.minexmr.com:4444"'), text);
    assert.ok(text.includes('XMRig Monero miner'), text);
    for (const path of benignPaths) assert.ok(!result.stdout.includes(path), `${path} is not listed`);
  });

  describe('image metadata', { concurrency }, () => {
    it('flags an image whose command runs xmrig against a stratum pool', async () => {
      const result = await scan([`docker-archive:${xmrigCmdArchive}`, '--json']);
      assertExit(result, 1);
      const report = parseStdout<JsonReport>(result);
      assert.deepEqual(report.findings, [], 'the layers themselves are clean');
      assert.equal(report.metadata.length, 1, JSON.stringify(report.metadata));
      const summaries = report.metadata[0]!.evidence.map((signal) => signal.summary).join('\n');
      assert.match(summaries, /xmrig|stratum/i, summaries);
    });

    it('flags an image named like a known miner image (kannix/monero-miner)', async () => {
      const result = await scan([`docker-archive:${knownMinerArchive}`, '--json']);
      assertExit(result, 1);
      const report = parseStdout<JsonReport>(result);
      assert.equal(report.metadata.length, 1, JSON.stringify(report.metadata));
      assert.equal(report.metadata[0]!.verdict, 'malicious');
      assert.ok(report.metadata[0]!.evidence.some((signal) => signal.rule === 'image-config.known-miner-image' && signal.summary.includes('kannix/monero-miner')), JSON.stringify(report.metadata));
    });
  });

  describe('bad input: exit 2 and an error that names the part at fault', { concurrency }, () => {
    it('rejects an unknown transport', async () => {
      const result = await scan(['ftp:image.tar']);
      assertOneLineError(result, /reference.*ftp:image\.tar/);
      assert.match(result.stderr, /docker-archive:PATH/, 'the error lists the syntaxes nomine knows');
    });

    it('reports a missing archive file', async () => {
      const missing = join(work, 'no-such-image.tar');
      const error = imageError(await scan([`docker-archive:${missing}`, '--json']));
      assert.equal(error.code, 'not-found');
      assert.ok(error.part?.includes(missing), JSON.stringify(error));
    });

    it('reports a corrupt gzip layer in an OCI layout on the image, naming the layer', async () => {
      const result = await scan([`oci:${corruptLayout}:latest`, '--json']);
      const error = imageError(result);
      assert.equal(error.code, 'invalid-input', JSON.stringify(error));
      assert.ok(error.part?.startsWith('layer ') && error.part.includes(corruptDigest), `the part names the damaged layer ${corruptDigest}: ${JSON.stringify(error)}`);
      const report = parseStdout<JsonReport>(result);
      assert.ok(report.images[0]!.problems.some((problem) => problem.code === 'layer-incomplete'), 'the report says the layer was not analyzed');
    });

    it('rejects a config file with an unknown key, naming the file and the key', async () => {
      const config = join(work, 'bad-config.yaml');
      await writeFile(config, 'scan:\n  failOnn: high\n');
      const result = await scan([`docker-archive:${legacyArchive}`, '--config', config]);
      assertOneLineError(result, new RegExp(config.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
      assert.match(result.stderr, /failOnn/);
    });

    it('rejects --fail-on bogus', async () => {
      const result = await scan([`docker-archive:${legacyArchive}`, '--fail-on', 'bogus']);
      assertOneLineError(result, /--fail-on.*bogus|bogus.*--fail-on/);
    });
  });

  describe('help', { concurrency }, () => {
    it('prints help for nomine', async () => {
      const result = await runCli(['--help'], { home: work });
      assertExit(result, 0);
      assert.match(result.stdout, /Usage: nomine/);
      assert.match(result.stdout, /scan/);
    });

    it('prints help for nomine scan', async () => {
      const result = await runCli(['scan', '--help'], { home: work });
      assertExit(result, 0);
      assert.match(result.stdout, /Usage: nomine scan/);
      assert.match(result.stdout, /registry/);
    });

    it('prints help for nomine scan registry', async () => {
      const result = await runCli(['scan', 'registry', '--help'], { home: work });
      assertExit(result, 0);
      assert.match(result.stdout, /Usage: nomine scan registry/);
      assert.match(result.stdout, /HOST\[:PORT\]/);
      assert.match(result.stdout, /--password-stdin/);
    });
  });
});

// The required fields of the SARIF 2.1.0 schema (sarif-schema-2.1.0.json) for what nomine writes, by hand:
// sarifLog {version, runs}, run {tool}, tool {driver}, toolComponent {name}, reportingDescriptor {id},
// result {message}, message {text | id}, invocation {executionSuccessful}, notification {message}.
const level = z.enum(['none', 'note', 'warning', 'error']);
const message = z.union([z.object({ text: z.string().min(1) }), z.object({ id: z.string().min(1) })]);
const propertyBag = z.record(z.string(), z.unknown());
const artifactLocation = z.object({ uri: z.string().min(1).refine((uri) => !/\s/.test(uri), 'a URI reference has no blanks').optional(), uriBaseId: z.string().optional(), index: z.number().int().min(-1).optional() });
const location = z.object({
  physicalLocation: z.object({ artifactLocation: artifactLocation.optional(), region: z.object({ startLine: z.number().int().min(1).optional() }).optional() }).optional(),
  logicalLocations: z.array(z.object({ name: z.string().optional(), kind: z.string().optional(), fullyQualifiedName: z.string().optional() })).optional(),
});
const reportingDescriptor = z.object({ id: z.string().min(1), shortDescription: message.optional(), fullDescription: message.optional(), properties: propertyBag.optional() });
const sarifResult = z.object({
  ruleId: z.string().min(1).optional(),
  ruleIndex: z.number().int().min(-1).optional(),
  level: level.optional(),
  kind: z.enum(['notApplicable', 'pass', 'fail', 'review', 'open', 'informational']).optional(),
  message,
  locations: z.array(location).optional(),
  partialFingerprints: z.record(z.string(), z.string()).optional(),
  properties: propertyBag.optional(),
});
const invocation = z.object({ executionSuccessful: z.boolean(), toolExecutionNotifications: z.array(z.object({ message, level: level.optional() })).optional() });
const sarifLog = z.strictObject({
  $schema: z.string().optional(),
  version: z.literal('2.1.0'),
  runs: z
    .array(
      z.object({
        tool: z.object({ driver: z.object({ name: z.string().min(1), version: z.string().optional(), informationUri: z.url().optional(), rules: z.array(reportingDescriptor).optional() }) }),
        invocations: z.array(invocation).optional(),
        results: z.array(sarifResult),
      }),
    )
    .min(1),
  properties: propertyBag.optional(),
});
