/**
 * Daemon-level `nomine audit docker` against two extra dockerd instances on their own sockets, one started weak
 * (API on TCP without TLS, icc on, insecure registries, logging off, experimental) and one
 * hardened (no-new-privileges, live restore, no userland proxy; icc=false needs iptables, which this sandbox's
 * daemons run without), each with its own --config-file. The
 * collector must find each daemon's command line by its socket and read the config it was started with.
 */
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { Command } from 'commander';
import type { AuditReport } from '../../src/audit/audit-report.ts';
import { auditCommand } from '../../src/cli/commands/audit.ts';
import { createDockerClient } from '../../src/platform/docker-client.ts';
import { dockerUnavailable } from '../helpers/image-builder.ts';

const skip = (await dockerUnavailable()) || (process.getuid?.() !== 0 ? 'needs root to start dockerd' : false) || (existsSync('/usr/sbin/dockerd') || existsSync('/usr/bin/dockerd') ? false : 'no dockerd binary');

interface Daemon {
  socket: string;
  config: string;
  process: ChildProcess;
  root: string;
}

async function startDaemon(name: string, extraArgs: string[], config: Record<string, unknown>): Promise<Daemon> {
  // Short paths: unix socket paths are limited to 108 bytes.
  const root = await mkdtemp(join('/tmp', `nd-${name}-`));
  const socket = join(root, 'd.sock');
  const configFile = join(root, 'daemon.json');
  await writeFile(configFile, `${JSON.stringify(config, null, 2)}\n`);
  const child = spawn(
    'dockerd',
    ['-H', `unix://${socket}`, ...extraArgs, '--data-root', join(root, 'data'), '--exec-root', join(root, 'exec'), '--pidfile', join(root, 'd.pid'), '--bridge=none', '--iptables=false', '--config-file', configFile],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-4000);
  });
  const client = createDockerClient({ socketPath: socket, timeoutMs: 2000 });
  try {
    for (let attempt = 0; attempt < 120; attempt += 1) {
      if (child.exitCode !== null) throw new Error(`dockerd ${name} exited: ${log}`);
      try {
        await client.apiVersion();
        return { socket, config: configFile, process: child, root };
      } catch {
        await sleep(500);
      }
    }
    throw new Error(`dockerd ${name} did not answer: ${log}`);
  } catch (error) {
    if (child.exitCode === null) child.kill('SIGKILL'); // never leave a daemon behind a failed start
    await rm(root, { recursive: true, force: true }).catch(() => undefined);
    throw error;
  } finally {
    await client.close();
  }
}

async function stopDaemon(daemon: Daemon | undefined): Promise<void> {
  if (!daemon) return;
  if (daemon.process.exitCode === null) {
    const exited = new Promise((resolve) => daemon.process.once('exit', resolve));
    daemon.process.kill('SIGTERM');
    await Promise.race([exited, sleep(20_000)]);
    if (daemon.process.exitCode === null) daemon.process.kill('SIGKILL');
  }
  await rm(daemon.root, { recursive: true, force: true }).catch(() => undefined);
}

async function audit(args: string[], dir: string): Promise<{ exitCode: number; report: AuditReport }> {
  const output = join(dir, `report-${randomBytes(3).toString('hex')}.json`);
  const program = new Command('nomine').exitOverride().addCommand(auditCommand());
  const before = process.exitCode;
  try {
    await program.parseAsync(['audit', 'docker', ...args, '--no-images', '--json', '-o', output], { from: 'user' });
    return { exitCode: Number(process.exitCode ?? 0), report: JSON.parse(await readFile(output, 'utf8')) as AuditReport };
  } finally {
    process.exitCode = before;
  }
}

function statusOf(report: AuditReport, checkId: string): string | undefined {
  return report.results.find((result) => result.checkId === checkId && result.entity.kind === 'host')?.status;
}

describe('nomine audit docker: daemon settings of a weak and a hardened dockerd', { skip, timeout: 180_000 }, () => {
  let weak: Daemon | undefined;
  let hardened: Daemon | undefined;
  let dir: string;
  const port = 23_000 + Math.floor(Math.random() * 2000);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nomine-audit-daemon-'));
    // allSettled: when one fails to start, the other must still be stopped in after().
    const [weakStart, hardStart] = await Promise.allSettled([
      startDaemon('weak', ['-H', `tcp://127.0.0.1:${port}`], { icc: true, 'insecure-registries': ['registry.lab:5000'], 'log-driver': 'none', experimental: true }),
      startDaemon('hard', [], { 'no-new-privileges': true, 'live-restore': true, 'userland-proxy': false, 'log-level': 'info' }),
    ]);
    if (weakStart.status === 'fulfilled') weak = weakStart.value;
    if (hardStart.status === 'fulfilled') hardened = hardStart.value;
    for (const start of [weakStart, hardStart]) if (start.status === 'rejected') throw start.reason;
  });

  after(async () => {
    await Promise.all([stopDaemon(weak), stopDaemon(hardened)]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('fails the weak daemon on TCP without TLS, icc, insecure registries, logging and experimental', async () => {
    const { report, exitCode } = await audit(['--docker-socket', weak!.socket], dir);
    for (const id of ['tcp-without-tls', 'icc', 'insecure-registries', 'logging', 'experimental', 'no-new-privileges']) {
      assert.equal(statusOf(report, `docker.daemon.${id}`), 'fail', id);
    }
    const tcp = report.results.find((result) => result.checkId === 'docker.daemon.tcp-without-tls')!;
    assert.match(tcp.evidence[0]?.summary ?? '', /tcp:\/\/127\.0\.0\.1/);
    assert.match(tcp.evidence[0]?.location?.path ?? '', /^\/proc\/\d+\/cmdline$/);
    const icc = report.results.find((result) => result.checkId === 'docker.daemon.icc')!;
    assert.deepEqual(icc.evidence[0]?.location, { path: weak!.config, line: 2 });
    assert.equal(exitCode, 1);
  });

  it('passes the hardened daemon on the settings it was given', async () => {
    const { report } = await audit(['--docker-socket', hardened!.socket], dir);
    for (const id of ['tcp-without-tls', 'insecure-registries', 'logging', 'experimental', 'seccomp-profile', 'no-new-privileges', 'live-restore', 'userland-proxy', 'log-level']) {
      assert.equal(statusOf(report, `docker.daemon.${id}`), 'pass', id);
    }
  });

  it('reads the config file given with --daemon-config instead of the one dockerd was started with', async () => {
    const other = join(dir, 'other.json');
    await writeFile(other, '{ "icc": false }\n');
    assert.equal(statusOf((await audit(['--docker-socket', hardened!.socket], dir)).report, 'docker.daemon.icc'), 'fail');
    const { report } = await audit(['--docker-socket', hardened!.socket, '--daemon-config', other], dir);
    assert.equal(statusOf(report, 'docker.daemon.icc'), 'pass');
  });
});
