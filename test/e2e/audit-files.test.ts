/**
 * File checks end to end. Host (CIS Docker section 3): the docker.host collector pointed at two temporary trees,
 * one with weak owners and modes and one with strict ones (unit files, /etc/docker, daemon.json, a real unix
 * socket, registry certs, TLS files), judged by the built-in checks. Images (CIS 4.8): an image imported from a
 * root FS holding a setuid copy of busybox, audited with `--image-files`; the file must be listed. Removed after.
 */
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { chmod, chown, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Command } from 'commander';
import type { AuditReport, AuditResult } from '../../src/audit/audit-report.ts';
import { collectDockerHostFiles, type HostFilePaths } from '../../src/audit/collectors/docker-host-files.ts';
import { auditCommand, buildAuditReport } from '../../src/cli/commands/audit.ts';
import { busyboxRootfs, dockerImport, dockerUnavailable, removeImage, tarDirectory } from '../helpers/image-builder.ts';

const isRoot = process.getuid?.() === 0;
const gid = process.getgid?.() ?? 0;

function resultFor(report: AuditReport, checkId: string, entity?: string): AuditResult {
  const found = report.results.find((result) => result.checkId === checkId && (!entity || result.entity.name === entity));
  assert.ok(found, `no result for ${checkId}`);
  return found;
}

interface Tree {
  paths: Partial<HostFilePaths>;
  server: Server;
}

/** A host tree: every file the collector reads, with `weak` or `strict` modes (and, as root, owners). */
async function makeTree(root: string, weak: boolean): Promise<Tree> {
  const unitDir = join(root, 'lib/systemd/system');
  const etcDocker = join(root, 'etc/docker');
  await mkdir(unitDir, { recursive: true });
  await mkdir(join(etcDocker, 'certs.d/registry.example:5000'), { recursive: true });
  await mkdir(join(root, 'etc/default'), { recursive: true });
  await mkdir(join(root, 'run'), { recursive: true });
  await mkdir(join(root, 'tls'), { recursive: true });
  const files: [string, number, number][] = [
    // path, strict mode, weak mode
    [join(unitDir, 'docker.service'), 0o644, 0o666],
    [join(unitDir, 'docker.socket'), 0o600, 0o664],
    [join(etcDocker, 'daemon.json'), 0o644, 0o646],
    [join(root, 'etc/default/docker'), 0o644, 0o755],
    [join(etcDocker, 'certs.d/registry.example:5000/ca.crt'), 0o444, 0o644],
    [join(root, 'tls/ca.pem'), 0o444, 0o644],
    [join(root, 'tls/cert.pem'), 0o444, 0o664],
    [join(root, 'tls/key.pem'), 0o400, 0o640],
  ];
  for (const [path, strict, loose] of files) {
    await writeFile(path, path.endsWith('.json') ? '{}\n' : 'x\n');
    await chmod(path, weak ? loose : strict);
    if (isRoot) await chown(path, weak ? 1000 : 0, weak ? 1000 : 0);
  }
  await chmod(etcDocker, weak ? 0o777 : 0o755);
  const socket = join(root, 'run/docker.sock');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  await chmod(socket, weak ? 0o666 : 0o660);
  // The socket's group is the test's own; the group file calls it `docker` in the strict tree only.
  const name = weak ? 'staff' : 'docker';
  await writeFile(join(root, 'group'), gid === 0 ? `${name}:x:0:\n` : `root:x:0:\n${name}:x:${gid}:\n`);
  return {
    server,
    paths: {
      unitDirs: [join(root, 'etc/systemd/system'), unitDir],
      etcDocker,
      daemonJson: join(etcDocker, 'daemon.json'),
      etcDefaultDocker: join(root, 'etc/default/docker'),
      etcSysconfigDocker: join(root, 'etc/sysconfig/docker'),
      socket,
      groupFile: join(root, 'group'),
      tls: { ca: join(root, 'tls/ca.pem'), cert: join(root, 'tls/cert.pem'), key: join(root, 'tls/key.pem') },
    },
  };
}

const modeChecks = ['docker-service', 'docker-socket-unit', 'etc-docker', 'daemon-json', 'etc-default-docker', 'registry-certs', 'tls-ca', 'tls-cert', 'tls-key', 'socket'].map((name) => `docker.host.${name}-mode`);
const ownerChecks = ['docker-service', 'docker-socket-unit', 'daemon-json', 'etc-default-docker', 'registry-certs', 'tls-ca', 'tls-cert', 'tls-key'].map((name) => `docker.host.${name}-owner`);

describe('docker.host file checks (temporary trees)', () => {
  let dir: string;
  let weak: Tree;
  let strict: Tree;
  let weakReport: AuditReport;
  let strictReport: AuditReport;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nomine-audit-files-'));
    weak = await makeTree(join(dir, 'weak'), true);
    strict = await makeTree(join(dir, 'strict'), false);
    weakReport = await buildAuditReport('docker', await collectDockerHostFiles(weak.paths));
    strictReport = await buildAuditReport('docker', await collectDockerHostFiles(strict.paths));
  });
  after(async () => {
    weak?.server.close();
    strict?.server.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('fails every mode check on the weak tree and passes it on the strict one', () => {
    for (const id of modeChecks) {
      assert.equal(resultFor(weakReport, id).status, 'fail', `${id} on the weak tree`);
      assert.equal(resultFor(strictReport, id).status, 'pass', `${id} on the strict tree: ${JSON.stringify(resultFor(strictReport, id).evidence)}`);
    }
  });

  it('names the file and its mode in the evidence, with the benchmark reference', () => {
    const key = resultFor(weakReport, 'docker.host.tls-key-mode');
    assert.equal(key.evidence[0]?.location?.path, weak.paths.tls?.key);
    assert.match(key.evidence[0]?.summary ?? '', /tls\.key\.mode is 0640; expected modeAtMost "400"/);
    assert.ok(key.references.includes('CIS Docker Benchmark 1.6.0 3.14'), key.references.join());
    const cert = resultFor(weakReport, 'docker.host.registry-certs-mode');
    assert.match(cert.evidence[0]?.summary ?? '', /registryCerts\[0\]/);
  });

  it('judges owners (root:root, and root:docker for the socket)', { skip: isRoot ? false : 'needs root to chown' }, () => {
    for (const id of ownerChecks) {
      assert.equal(resultFor(weakReport, id).status, 'fail', `${id} on the weak tree`);
      assert.equal(resultFor(strictReport, id).status, 'pass', `${id} on the strict tree`);
    }
    assert.equal(resultFor(weakReport, 'docker.host.socket-owner').status, 'fail');
    assert.equal(resultFor(strictReport, 'docker.host.socket-owner').status, 'pass');
  });

  it('reports absent files as not applicable', () => {
    assert.equal(resultFor(strictReport, 'docker.host.etc-sysconfig-docker-mode').status, 'not-applicable');
    assert.equal(resultFor(strictReport, 'docker.host.etc-sysconfig-docker-owner').status, 'not-applicable');
  });
});

const unavailable = await dockerUnavailable();

describe('docker.image.setuid-files (real engine, --image-files)', { skip: unavailable }, () => {
  const image = `nomine-audit-files-e2e:${randomBytes(4).toString('hex')}`;
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nomine-audit-setuid-'));
    const rootfs = join(dir, 'rootfs');
    await busyboxRootfs(rootfs);
    await mkdir(join(rootfs, 'usr/bin'), { recursive: true });
    await copyFile(join(rootfs, 'bin/busybox'), join(rootfs, 'usr/bin/suid-busybox'));
    await chmod(join(rootfs, 'usr/bin/suid-busybox'), 0o4755);
    await tarDirectory(rootfs, join(dir, 'rootfs.tar'));
    await dockerImport(join(dir, 'rootfs.tar'), image, { cmd: ['sh'] });
  });
  after(async () => {
    await removeImage(image);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function audit(args: string[]): Promise<AuditReport> {
    const output = join(dir, `report-${randomBytes(3).toString('hex')}.json`);
    const program = new Command('nomine').exitOverride().addCommand(auditCommand());
    const before = process.exitCode;
    try {
      await program.parseAsync(['audit', 'docker', '--image', image, ...args, '--json', '-o', output], { from: 'user' });
      return JSON.parse(await readFile(output, 'utf8')) as AuditReport;
    } finally {
      process.exitCode = before;
    }
  }

  it('lists the setuid file as a warning', async () => {
    const report = await audit(['--image-files']);
    const result = resultFor(report, 'docker.image.setuid-files', image);
    assert.equal(result.status, 'warn');
    assert.ok(result.evidence.some((item) => item.summary.includes('/usr/bin/suid-busybox (04755)')), JSON.stringify(result.evidence));
    assert.ok(!result.evidence.some((item) => item.summary.includes('/bin/busybox (')), 'busybox itself is not setuid');
  });

  it('does not export images without --image-files', async () => {
    const report = await audit([]);
    assert.equal(resultFor(report, 'docker.image.setuid-files', image).status, 'not-applicable');
  });
});
