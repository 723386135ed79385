/**
 * The CIS Docker 1.6 items added after the first release, against the real Docker Engine through the CLI command:
 * 5.7 (sshd in a container, from /containers/{id}/top), 5.14 (published ports' interfaces: no port can be
 * published here, containers run with --network none, so only the passing side; the failing side is in the
 * check's examples), 5.3 (SELinux), 2.8 (default ulimits) and the host items of section 1 (data root partition,
 * auditd rules). The "sshd" process is the host's coreutils sleep started as `exec -a sshd` by bash (busybox
 * dispatches on argv[0], so it cannot run as sshd): the host's /usr is mounted read-only, which needs a merged-/usr host.
 */
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync } from 'node:fs';
import { mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Command } from 'commander';
import type { AuditReport, AuditResult } from '../../src/audit/audit-report.ts';
import { auditCommand } from '../../src/cli/commands/audit.ts';
import { busyboxRootfs, dockerImport, dockerUnavailable, removeImage, tarDirectory } from '../helpers/image-builder.ts';

const run = promisify(execFile);
const mergedUsr = existsSync('/usr/bin/bash') && existsSync('/usr/bin/sleep') && lstatSync('/lib').isSymbolicLink();
const unavailable = (await dockerUnavailable()) || (mergedUsr ? false : 'needs a merged-/usr host with bash');
const suffix = randomBytes(4).toString('hex');
const image = `nomine-audit-cis-extra:${suffix}`;
const sshd = `nomine-audit-sshd-${suffix}`;
const plain = `nomine-audit-plain-${suffix}`;

async function audit(args: string[], dir: string): Promise<AuditReport> {
  const output = join(dir, `report-${randomBytes(3).toString('hex')}.json`);
  const program = new Command('nomine').exitOverride().addCommand(auditCommand());
  const before = process.exitCode;
  try {
    await program.parseAsync(['audit', ...args, '--json', '-o', output], { from: 'user' });
    return JSON.parse(await readFile(output, 'utf8')) as AuditReport;
  } finally {
    process.exitCode = before;
  }
}

function resultFor(report: AuditReport, entity: string | undefined, checkId: string): AuditResult {
  const found = report.results.find((result) => (entity === undefined || result.entity.name === entity) && result.checkId === checkId);
  assert.ok(found, `no result for ${checkId} on ${entity ?? 'any entity'}`);
  return found;
}

describe('nomine audit docker: CIS 1.1, 2.8, 5.3, 5.7, 5.14 (real engine)', { skip: unavailable }, () => {
  let dir: string;
  let report: AuditReport;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nomine-audit-cis-extra-'));
    await busyboxRootfs(join(dir, 'rootfs'));
    await symlink('usr/lib', join(dir, 'rootfs/lib'));
    if (existsSync('/lib64')) await symlink('usr/lib64', join(dir, 'rootfs/lib64'));
    await tarDirectory(join(dir, 'rootfs'), join(dir, 'rootfs.tar'));
    await dockerImport(join(dir, 'rootfs.tar'), image, { cmd: ['sleep', '300'] });
    await run('docker', ['run', '-d', '--name', sshd, '--network', 'none', '-v', '/usr:/usr:ro', image, '/usr/bin/bash', '-c', 'exec -a sshd /usr/bin/sleep 300']);
    await run('docker', ['run', '-d', '--name', plain, '--network', 'none', image]);
    report = await audit(['docker', '--container', sshd, plain, '--no-images'], dir);
  });

  after(async () => {
    await run('docker', ['rm', '-f', sshd, plain]).catch(() => undefined);
    await removeImage(image);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('fails 5.7 for the container running sshd, from its process list', () => {
    const result = resultFor(report, sshd, 'docker.container.sshd');
    assert.equal(result.status, 'fail', JSON.stringify(result));
    assert.match(result.evidence[0]!.summary, /sshd 300/);
    assert.ok(result.references.includes('CIS Docker Benchmark 1.6.0 5.7'));
    assert.equal(resultFor(report, plain, 'docker.container.sshd').status, 'pass');
  });

  it('passes 5.14 for containers that publish nothing, and 5.3 (labelled on SELinux hosts, trivially elsewhere)', () => {
    for (const name of [sshd, plain]) {
      const ports = resultFor(report, name, 'docker.container.ports-all-interfaces');
      assert.equal(ports.status, 'pass');
      assert.ok(ports.references.includes('CIS Docker Benchmark 1.6.0 5.14'));
      const selinux = resultFor(report, name, 'docker.container.selinux');
      assert.equal(selinux.status, 'pass', JSON.stringify(selinux)); // labelled on SELinux hosts, holds trivially elsewhere
    }
  });

  it('reports the host items of section 1 and the 2.8 reminder', () => {
    const auditd = resultFor(report, undefined, 'docker.host.auditd-configured');
    assert.ok(['pass', 'warn'].includes(auditd.status));
    const dockerdRule = resultFor(report, undefined, 'docker.host.audit-dockerd');
    if (auditd.status === 'warn') assert.equal(dockerdRule.status, 'not-applicable', 'no auditd: the per-file checks do not apply');
    else assert.ok(['pass', 'fail'].includes(dockerdRule.status));
    const partition = resultFor(report, undefined, 'docker.host.data-root-partition');
    assert.ok(['pass', 'fail'].includes(partition.status), JSON.stringify(partition));
    assert.ok(partition.references.includes('CIS Docker Benchmark 1.6.0 1.1.1'));
    assert.ok(['pass', 'warn'].includes(resultFor(report, undefined, 'docker.daemon.default-ulimits').status));
  });
});
