/**
 * The eBPF sensor against the real kernel and the real Docker Engine: a busybox container on the host network
 * runs commands, connects to a TCP server this test listens on at 127.0.0.1, writes files; the sensor must report
 * each with the container's mount namespace inode. The in-kernel kill hook kills a connect to a forbidden port
 * from that container only. A fault test kills bpftrace with SIGKILL and expects a restart and more events.
 */
import { strict as assert } from 'node:assert';
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { connect as tcpConnect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { RawEvent } from '../../src/agent/event.ts';
import type { SensorStatus } from '../../src/agent/sensor.ts';
import { generateBpftraceScript } from '../../src/agent/sensors/bpftrace-script.ts';
import { createBpftraceSensor, type BpftraceSensorOptions } from '../../src/agent/sensors/bpftrace-sensor.ts';
import { ensureTracefs, listSyscallTracepoints } from '../../src/platform/tracefs.ts';
import { busyboxRootfs, dockerImport, dockerUnavailable, removeImage, tarDirectory } from '../helpers/image-builder.ts';

const run = promisify(execFile);

async function bpftraceUnavailable(): Promise<string | false> {
  if (process.getuid?.() !== 0) return 'needs root';
  const availability = await createBpftraceSensor().available();
  return availability.ok ? false : availability.reason;
}

const skip = (await dockerUnavailable()) || (await bpftraceUnavailable());
const suffix = randomBytes(4).toString('hex');
const image = `nomine-bpftrace-e2e:${suffix}`;
const container = `nomine-bpftrace-e2e-${suffix}`;

/** A running sensor that records what it reports. */
class Recording {
  readonly events: RawEvent[] = [];
  readonly statuses: SensorStatus[] = [];
  private readonly abort = new AbortController();
  private waiters: (() => void)[] = [];
  readonly done: Promise<void>;

  constructor(options: BpftraceSensorOptions) {
    const notify = () => {
      for (const waiter of this.waiters.splice(0)) waiter();
    };
    this.done = createBpftraceSensor(options).start({
      sink: (event) => {
        this.events.push(event);
        notify();
      },
      onStatus: (status) => {
        this.statuses.push(status);
        notify();
      },
      signal: this.abort.signal,
    });
    this.done.catch(notify);
  }

  /** Resolves with the first item `pick` finds once it exists; fails after `timeoutMs`. */
  async waitFor<T>(what: string, pick: () => T | undefined, timeoutMs = 10_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = pick();
      if (found !== undefined) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; statuses: ${JSON.stringify(this.statuses)}; ${this.events.length} events so far`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 250));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  status(kind: SensorStatus['kind']): SensorStatus | undefined {
    return this.statuses.find((s) => s.kind === kind);
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.done.catch(() => undefined);
  }
}

function bpftracePid(status: SensorStatus | undefined): number {
  const match = /\(pid (\d+)/.exec(status?.message ?? '');
  assert.ok(match, `no pid in ${JSON.stringify(status)}`);
  return Number(match[1]);
}

async function mountNamespaceOf(pid: number): Promise<number> {
  const link = await readlink(`/proc/${pid}/ns/mnt`); // mnt:[4026532345]
  return Number(/\[(\d+)\]/.exec(link)![1]);
}

async function dockerExec(...command: string[]): Promise<{ code: number; stdout: string }> {
  try {
    const { stdout } = await run('docker', ['exec', container, ...command], { timeout: 10_000 });
    return { code: 0, stdout };
  } catch (error) {
    return { code: Number((error as { code?: number }).code ?? -1), stdout: String((error as { stdout?: string }).stdout ?? '') };
  }
}

describe('eBPF sensor through bpftrace (real kernel, real Docker)', { skip }, () => {
  let dir: string;
  let server: Server;
  let serverPort: number;
  let forbiddenPort: number;
  let mntns: number;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nomine-bpftrace-e2e-'));
    const root = join(dir, 'rootfs');
    await busyboxRootfs(root);
    for (const applet of ['nc', 'touch']) await symlink('busybox', join(root, 'bin', applet));
    await tarDirectory(root, join(dir, 'rootfs.tar'));
    await dockerImport(join(dir, 'rootfs.tar'), image, { cmd: ['sleep', '600'] });
    await run('docker', ['run', '-d', '--name', container, '--network', 'host', image]);
    const { stdout } = await run('docker', ['inspect', '--format', '{{.State.Pid}}', container]);
    mntns = await mountNamespaceOf(Number(stdout.trim()));

    server = createServer((socket) => socket.end('hello\n'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    serverPort = (server.address() as { port: number }).port;
    // A port nothing listens on; the kill hook fires before the connect would be refused.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    forbiddenPort = (probe.address() as { port: number }).port;
    await new Promise((resolve) => probe.close(resolve));
  });

  after(async () => {
    await run('docker', ['rm', '-f', container]).catch(() => undefined);
    await removeImage(image);
    server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("reports a container's execs, connects, file writes, exits and syscalls with its mount namespace", async () => {
    const sensor = new Recording({ syscallIntervalMs: 500, killOnConnectPorts: [forbiddenPort], killInMountNamespaces: [mntns] });
    try {
      await sensor.waitFor('bpftrace to attach', () => sensor.status('started'), 15_000);
      const mine = (type: RawEvent['type']) => sensor.events.filter((e) => e.type === type && e.mntns === mntns);

      assert.equal((await dockerExec('/bin/cat', '/etc/passwd')).code, 0);
      const exec = await sensor.waitFor('exec of cat', () => mine('exec').find((e) => e.type === 'exec' && e.argv[1] === '/etc/passwd'));
      assert.equal(exec.type === 'exec' && exec.exe, '/bin/cat');
      assert.deepEqual(exec.type === 'exec' && exec.argv, ['/bin/cat', '/etc/passwd']);
      assert.ok(exec.type === 'exec' && exec.pidns && exec.pidns > 0);
      const exit = await sensor.waitFor('exit of cat', () => mine('exit').find((e) => e.pid === exec.pid));
      assert.equal(exit.type === 'exit' && exit.exitCode, 0);

      assert.equal((await dockerExec('nc', '127.0.0.1', String(serverPort))).stdout, 'hello\n');
      const connect = await sensor.waitFor('connect', () => mine('connect').find((e) => e.type === 'connect' && e.port === serverPort));
      assert.deepEqual(connect.type === 'connect' && [connect.protocol, connect.family, connect.address, connect.comm], ['tcp', 4, '127.0.0.1', 'nc']);

      assert.equal((await dockerExec('sh', '-c', 'echo x > /tmp/absolute.txt; cd /tmp && echo y > relative.txt && sleep 1')).code, 0);
      const absolute = await sensor.waitFor('absolute write', () => mine('file-write').find((e) => e.type === 'file-write' && e.path === '/tmp/absolute.txt'));
      assert.deepEqual(absolute.type === 'file-write' && absolute.flags, ['O_WRONLY', 'O_CREAT', 'O_TRUNC']);
      // The relative path is made absolute through /proc/PID/cwd, seen from the container's root (the shell is still
      // alive; a process gone by the time its line is read keeps its path as given).
      await sensor.waitFor('relative write', () => mine('file-write').find((e) => e.type === 'file-write' && e.path === '/tmp/relative.txt'));

      const syscalls = await sensor.waitFor('syscall counts', () => mine('syscalls').find((e) => e.type === 'syscalls' && (e.counts.execve ?? 0) > 0));
      assert.ok(syscalls.type === 'syscalls' && (syscalls.counts.connect ?? 0) >= 1, JSON.stringify(syscalls));

      // In-kernel kill: the connect to the forbidden port kills nc (137) and the event says so; the host is untouched.
      assert.equal((await dockerExec('nc', '127.0.0.1', String(forbiddenPort))).code, 137);
      const killed = await sensor.waitFor('killed connect', () => mine('connect').find((e) => e.type === 'connect' && e.port === forbiddenPort));
      assert.equal((killed as { killedInKernel?: boolean }).killedInKernel, true);
      // This test process is in the host's mount namespace: its connect is refused, not killed.
      await assert.rejects(new Promise<void>((resolve, reject) => tcpConnect(forbiddenPort, '127.0.0.1', resolve).on('error', reject)), { code: 'ECONNREFUSED' });

      assert.equal(sensor.status('failed'), undefined);
      assert.equal(sensor.statuses.filter((s) => s.kind === 'warning').length, 0, JSON.stringify(sensor.statuses));
    } finally {
      await sensor.stop();
    }
    assert.equal(sensor.statuses.at(-1)?.kind, 'stopped');
  });

  it('starts and stops killing a namespace\'s connects while running, and keeps that across a bpftrace restart', async () => {
    const sensor = createBpftraceSensor({ killOnConnectPorts: [forbiddenPort], killControl: true });
    const statuses: SensorStatus[] = [];
    const abort = new AbortController();
    const done = sensor.start({ sink: () => undefined, onStatus: (status) => statuses.push(status), signal: abort.signal });
    const waitStatus = async (kind: SensorStatus['kind'], count: number) => {
      for (let i = 0; i < 300 && statuses.filter((s) => s.kind === kind).length < count; i += 1) await new Promise((resolve) => setTimeout(resolve, 100));
      const found = statuses.filter((s) => s.kind === kind);
      assert.ok(found.length >= count, `no ${kind} status: ${JSON.stringify(statuses)}`);
      return found[count - 1]!;
    };
    try {
      await waitStatus('started', 1);
      // Not enforcing yet: the connect is only refused (nc exits 1).
      assert.equal((await dockerExec('nc', '127.0.0.1', String(forbiddenPort))).code, 1);
      sensor.setConnectKill(mntns, 'enforce');
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal((await dockerExec('nc', '127.0.0.1', String(forbiddenPort))).code, 137, 'killed once the namespace enforces');
      process.kill(bpftracePid(statuses.find((s) => s.kind === 'started')), 'SIGKILL');
      await waitStatus('restarted', 1);
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal((await dockerExec('nc', '127.0.0.1', String(forbiddenPort))).code, 137, 'still killed after bpftrace restarted');
      sensor.setConnectKill(mntns, 'clear');
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal((await dockerExec('nc', '127.0.0.1', String(forbiddenPort))).code, 1, 'refused again once cleared');
    } finally {
      abort.abort();
      await done.catch(() => undefined);
    }
  });

  it('restarts bpftrace killed with SIGKILL, says so, and keeps delivering events', async () => {
    const sensor = new Recording({ syscallIntervalMs: 1000, restartDelayMs: { initial: 100, max: 1000 } });
    try {
      const pid = bpftracePid(await sensor.waitFor('bpftrace to attach', () => sensor.status('started'), 15_000));
      process.kill(pid, 'SIGKILL');
      const restarted = await sensor.waitFor('restart', () => sensor.status('restarted'), 15_000);
      assert.match(restarted.message, /killed by SIGKILL/);
      assert.notEqual(bpftracePid(restarted), pid);
      assert.equal(existsSync(`/proc/${pid}`), false, 'the killed bpftrace is gone');

      const marker = `after-restart-${suffix}`;
      assert.equal((await dockerExec('/bin/echo', marker)).code, 0);
      await sensor.waitFor('exec after the restart', () => sensor.events.find((e) => e.type === 'exec' && e.mntns === mntns && e.argv[1] === marker));
    } finally {
      await sensor.stop();
    }
    const pids = sensor.statuses.filter((s) => s.kind === 'started' || s.kind === 'restarted').map(bpftracePid);
    for (const pid of pids) assert.equal(existsSync(`/proc/${pid}`), false, `bpftrace ${pid} outlived the sensor`);
  });

  it('writes a script the installed bpftrace compiles on a kernel missing some syscall tracepoints', async () => {
    const missing = new Set(['sys_enter_openat2', 'sys_exit_openat2', 'sys_enter_listen', 'sys_enter_bind', 'sys_exit_accept4']);
    const script = generateBpftraceScript({ nonce: 'abcdef0123', syscallIntervalMs: 1000, hasTracepoint: (name) => !missing.has(name) });
    assert.ok(!script.includes('openat2') && !script.includes('@nomine_listen_fd') && !script.includes('@nomine_bind_fd'));
    await writeFile(join(dir, 'reduced.bt'), script);
    // --emit-elf compiles and verifies size limits without loading anything.
    await run('bpftrace', ['--emit-elf', join(dir, 'reduced.elf'), join(dir, 'reduced.bt')], { env: { ...process.env, BPFTRACE_STRLEN: '200' }, timeout: 30_000 });
    assert.throws(() => generateBpftraceScript({ nonce: 'abcdef0123', syscallIntervalMs: 1000, kill: { ports: [70000], mountNamespaces: [mntns] } }), /bad kill port/);
    assert.throws(() => generateBpftraceScript({ nonce: 'not hex!', syscallIntervalMs: 1000 }), /nonce/);
  });

  for (const death of ['SIGKILL', 'exit'] as const) {
    it(`leaves no bpftrace behind when the agent dies (${death})`, async () => {
      // A separate agent process: it starts the sensor, prints bpftrace's pid, then dies.
      const sensorModule = new URL('../../src/agent/sensors/bpftrace-sensor.ts', import.meta.url).href;
      const program = `
        import { createBpftraceSensor } from ${JSON.stringify(sensorModule)};
        createBpftraceSensor().start({ sink() {}, signal: new AbortController().signal, onStatus(status) {
          if (status.kind !== 'started') return;
          console.log(status.message);
          ${death === 'exit' ? 'process.exit(0);' : ''}
        } });`;
      const agent = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', program], { stdio: ['ignore', 'pipe', 'inherit'] });
      const started = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('the agent did not start bpftrace')), 15_000);
        agent.stdout.on('data', (chunk: Buffer) => {
          clearTimeout(timer);
          resolve(chunk.toString());
        });
      });
      const pid = bpftracePid({ kind: 'started', message: started });
      if (death === 'SIGKILL') agent.kill('SIGKILL');
      await new Promise((resolve) => agent.on('close', resolve));
      // Dead is gone or a zombie: once orphaned, bpftrace is reaped by init, not by anyone here.
      const running = async () => !/^State:\s+Z/m.test((await readFile(`/proc/${pid}/status`, 'utf8').catch(() => 'State: Z')));
      const deadline = Date.now() + 3000;
      while ((await running()) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      const orphan = await running();
      if (orphan) process.kill(pid, 'SIGKILL');
      assert.equal(orphan, false, `bpftrace ${pid} outlived its agent`);
    });
  }

  it('fails clearly, without retrying, when bpftrace cannot compile the script', async () => {
    // A stand-in for a bpftrace that rejects the script, as 0.17 does: the error on stderr, exit code 1.
    const fake = join(dir, 'bpftrace-rejecting');
    await writeFile(fake, '#!/bin/sh\necho "stdin:3:5-9: ERROR: Unknown identifier: \'foo\'" >&2\nexit 1\n', { mode: 0o755 });
    const statuses: SensorStatus[] = [];
    const sensor = createBpftraceSensor({ bpftracePath: fake });
    await assert.rejects(
      sensor.start({ sink: () => undefined, onStatus: (s) => statuses.push(s), signal: new AbortController().signal }),
      /could not start: it exited with code 1; its last stderr lines: stdin:3:5-9: ERROR: Unknown identifier/,
    );
    assert.deepEqual(
      statuses.map((s) => s.kind),
      ['failed'],
    );
  });
});

describe('tracefs', { skip: process.getuid?.() === 0 ? false : 'needs root' }, () => {
  it('mounts tracefs where it is missing, and leaves a mounted one alone', async () => {
    assert.deepEqual(await ensureTracefs(), { ok: true, path: '/sys/kernel/tracing', mountedNow: false });
    const dir = await mkdtemp(join(tmpdir(), 'nomine-tracefs-'));
    try {
      const state = await ensureTracefs(dir);
      assert.deepEqual(state, { ok: true, path: dir, mountedNow: true });
      assert.ok(listSyscallTracepoints(dir).has('sys_enter_openat'));
    } finally {
      await run('umount', [dir]).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('says why when it cannot mount', async () => {
    const state = await ensureTracefs('/nonexistent/nomine/tracing');
    assert.equal(state.ok, false);
    assert.match(!state.ok ? state.reason : '', /tracefs is not mounted at \/nonexistent\/nomine\/tracing and mounting it failed: .*mount -t tracefs tracefs/);
  });
});
