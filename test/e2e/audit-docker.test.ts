/**
 * `nomine audit docker` against the real Docker Engine: a weak container (docker socket mounted, host PID and
 * network, no limits), a privileged one (created, not started: this sandbox cannot grant every capability) and a
 * hardened one (read-only, no capabilities, no-new-privileges, limits, non-root, health check), audited through
 * the CLI command with --json; each check must fail or pass for the right container. Containers are removed after.
 */
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Command } from 'commander';
import type { AuditReport, AuditResult } from '../../src/audit/audit-report.ts';
import { auditCommand } from '../../src/cli/commands/audit.ts';
import { busyboxRootfs, dockerImport, dockerUnavailable, removeImage, tarDirectory } from '../helpers/image-builder.ts';

const run = promisify(execFile);
const unavailable = await dockerUnavailable();
const suffix = randomBytes(4).toString('hex');
const image = `nomine-audit-e2e:${suffix}`;
const weak = `nomine-audit-weak-${suffix}`;
const privileged = `nomine-audit-privileged-${suffix}`;
const hardened = `nomine-audit-hardened-${suffix}`;

/** Runs `nomine audit ARGS` in process; returns the exit code and the report written with -o. */
async function audit(args: string[], dir: string): Promise<{ exitCode: number; report: AuditReport }> {
  const output = join(dir, `report-${randomBytes(3).toString('hex')}.json`);
  const program = new Command('nomine').exitOverride().addCommand(auditCommand());
  const before = process.exitCode;
  try {
    await program.parseAsync(['audit', ...args, '--json', '-o', output], { from: 'user' });
    const exitCode = Number(process.exitCode ?? 0);
    return { exitCode, report: JSON.parse(await readFile(output, 'utf8')) as AuditReport };
  } finally {
    process.exitCode = before;
  }
}

function resultFor(report: AuditReport, entity: string, checkId: string): AuditResult {
  const found = report.results.find((result) => result.entity.name === entity && result.checkId === checkId);
  assert.ok(found, `no result for ${checkId} on ${entity}`);
  return found;
}

describe('nomine audit docker (real engine)', { skip: unavailable }, () => {
  let dir: string;
  let report: AuditReport;
  let exitCode: number;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nomine-audit-e2e-'));
    await busyboxRootfs(join(dir, 'rootfs'));
    await tarDirectory(join(dir, 'rootfs'), join(dir, 'rootfs.tar'));
    await dockerImport(join(dir, 'rootfs.tar'), image, { cmd: ['sleep', '600'] });
    await run('docker', ['run', '-d', '--name', weak, '-v', '/var/run/docker.sock:/var/run/docker.sock', '--pid', 'host', '--network', 'host', image]);
    await run('docker', ['create', '--name', privileged, '--privileged', '--network', 'none', '--cap-add', 'SYS_ADMIN', '-v', '/etc:/host-etc:ro', image]);
    await run('docker', [
      'run', '-d', '--name', hardened, '--read-only', '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges', '--memory', '64m', '--cpus', '0.5',
      '--user', '1000', '--pids-limit', '50', '--network', 'none', '--health-cmd', 'true', '--restart', 'on-failure:3', image,
    ]);
    ({ exitCode, report } = await audit(['docker', '--all', '--container', weak, privileged, hardened, '--image', image], dir));
  });

  after(async () => {
    await run('docker', ['rm', '-f', weak, privileged, hardened]).catch(() => undefined);
    await removeImage(image);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('fails the weak container on every weakness it has', () => {
    for (const id of ['docker-socket-mounted', 'host-pid', 'host-network', 'memory-limit', 'cpu-limit', 'pids-limit', 'readonly-rootfs', 'root-user', 'healthcheck', 'no-new-privileges']) {
      const result = resultFor(report, weak, `docker.container.${id}`);
      assert.equal(result.status, 'fail', `${id}: ${JSON.stringify(result)}`);
      assert.ok(result.evidence.length > 0);
    }
    const socket = resultFor(report, weak, 'docker.container.docker-socket-mounted');
    assert.match(socket.evidence[0]!.summary, /Mounts\[\d+\]\.Source is "\/var\/run\/docker\.sock"/);
    assert.ok(socket.references.includes('CIS Docker Benchmark 1.6.0 5.32'));
    assert.equal(resultFor(report, weak, 'docker.container.privileged').status, 'pass');
  });

  it('fails the privileged container on privileged, added capabilities and a sensitive host path', () => {
    assert.equal(resultFor(report, privileged, 'docker.container.privileged').status, 'fail');
    assert.equal(resultFor(report, privileged, 'docker.container.capabilities-added').status, 'fail');
    assert.equal(resultFor(report, privileged, 'docker.container.sensitive-host-path').status, 'fail');
    assert.equal(resultFor(report, privileged, 'docker.container.host-network').status, 'pass');
  });

  it('passes every container check for the hardened container', () => {
    const results = report.results.filter((result) => result.entity.name === hardened);
    assert.ok(results.length >= 20, `only ${results.length} results`);
    const notPassing = results.filter((result) => result.status !== 'pass');
    assert.deepEqual(notPassing.map((result) => `${result.checkId}: ${result.status} ${result.evidence.map((e) => e.summary).join('; ')}`), []);
  });

  it('audits the daemon and the image, and gates the exit code', () => {
    const daemon = report.results.filter((result) => result.entity.kind === 'host');
    assert.ok(daemon.length >= 10, 'daemon checks ran');
    assert.equal(resultFor(report, daemon[0]!.entity.name, 'docker.daemon.tcp-without-tls').status, 'pass');
    assert.equal(resultFor(report, image, 'docker.image.root-user').status, 'fail');
    assert.equal(exitCode, 1, 'critical failures exit 1');
    assert.ok(report.summary.score > 0 && report.summary.score < 100);
  });

  it('reports waived results with their reason and lets them stop gating', async () => {
    const { writeFile } = await import('node:fs/promises');
    const waivers = join(dir, 'waivers.yaml');
    await writeFile(waivers, `waivers:\n  - { check: 'docker.*', reason: e2e lab, expires: 2999-01-01 }\n`);
    const waived = await audit(['docker', '--all', '--container', weak, '--no-images', '--waivers', waivers], dir);
    const socket = resultFor(waived.report, weak, 'docker.container.docker-socket-mounted');
    assert.deepEqual(socket.waived, { reason: 'e2e lab', expires: '2999-01-01' });
    assert.equal(socket.status, 'fail', 'a waived result keeps its status');
    assert.equal(waived.exitCode, 0);
  });

  it('reports an unreachable daemon as one error result and exits 2', async () => {
    const { exitCode: code, report: unreachable } = await audit(['docker', '--docker-socket', join(dir, 'no.sock')], dir);
    assert.equal(code, 2);
    assert.equal(unreachable.results.length, 1);
    assert.equal(unreachable.results[0]?.status, 'error');
    assert.match(unreachable.results[0]?.evidence[0]?.summary ?? '', /unreachable/);
  });
});
