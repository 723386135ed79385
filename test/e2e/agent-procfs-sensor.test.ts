/**
 * The /proc polling sensor against real processes: host children (exec with hash and parent, exit), TCP over IPv4,
 * IPv6 and a dual-stack listener (listen, connect, accept) in this process, and real containers from a busybox image:
 * a long-lived process (exec with the container's mount namespace), an `nc` in a `--network host` container
 * connected to a server of this test, and a shell holding /tmp/out open for writing until it exits.
 */
import { strict as assert } from 'node:assert';
import { execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, readFile, readlink, rm, symlink } from 'node:fs/promises';
import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { RawEvent } from '../../src/agent/event.ts';
import { createProcfsSensor } from '../../src/agent/sensors/procfs-sensor.ts';
import type { SensorStatus } from '../../src/agent/sensor.ts';
import { busyboxRootfs, dockerImport, dockerUnavailable, removeImage, tarDirectory } from '../helpers/image-builder.ts';

const run = promisify(execFile);
const unavailable = await dockerUnavailable();
const suffix = randomBytes(4).toString('hex');
const image = `nomine-procfs-e2e:${suffix}`;

/** A sensor polling every 40 ms into an array, reporting only what starts after it. */
function startSensor() {
  const events: RawEvent[] = [];
  const statuses: SensorStatus[] = [];
  const controller = new AbortController();
  const sensor = createProcfsSensor({ pollIntervalMs: 40, reportExisting: false });
  const running = sensor.start({ sink: (event) => events.push(event), onStatus: (status) => statuses.push(status), signal: controller.signal });
  return {
    events,
    statuses,
    sensor,
    /** Waits for an event; on failure shows the sensor's counters and the `related` events seen (to tell a miss from a mismatch). */
    async waitFor<T extends RawEvent>(what: string, match: (event: RawEvent) => event is T, timeoutMs = 5000, related: (event: RawEvent) => boolean = (e) => e.type !== 'exec' && e.type !== 'exit'): Promise<T> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = events.find(match);
        if (found) return found;
        if (Date.now() > deadline) {
          assert.fail(`no ${what} within ${timeoutMs} ms; sensor ${JSON.stringify(sensor.stats())}; related events: ${JSON.stringify(events.filter(related).slice(-20))}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async stop() {
      controller.abort();
      await running;
    },
  };
}

type Sensed = ReturnType<typeof startSensor>;
type Of<T extends RawEvent['type']> = RawEvent & { type: T };
const is =
  <T extends RawEvent['type']>(type: T, match: (event: Of<T>) => boolean) =>
  (event: RawEvent): event is Of<T> =>
    event.type === type && match(event as Of<T>);

async function listen(server: Server, host: string): Promise<number> {
  server.listen(0, host);
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

async function connect(host: string, port: number): Promise<Socket> {
  const socket = createConnection({ host, port });
  await once(socket, 'connect');
  return socket;
}

async function mntnsOf(pid: number): Promise<number> {
  return Number(/\[(\d+)\]/.exec(await readlink(`/proc/${pid}/ns/mnt`))![1]);
}

describe('procfs sensor on host processes', () => {
  let sensed: Sensed;
  const servers: Server[] = [];
  const sockets: Socket[] = [];

  before(async () => {
    sensed = startSensor();
    while (sensed.sensor.stats().polls < 1) await new Promise((resolve) => setTimeout(resolve, 10));
  });

  after(async () => {
    for (const socket of sockets) socket.destroy();
    for (const server of servers) server.close();
    await sensed.stop();
  });

  it('reports a new process with its executable, hash, arguments and parent, then its exit', async () => {
    const child = spawn('/bin/sleep', ['0.4'], { stdio: 'ignore' });
    await once(child, 'spawn');
    const exec = await sensed.waitFor('exec of sleep', is('exec', (e) => e.pid === child.pid), 5000, (e) => e.pid === child.pid);
    assert.equal(exec.exe, '/usr/bin/sleep');
    assert.deepEqual(exec.argv, ['/bin/sleep', '0.4']);
    assert.equal(exec.sha256, createHash('sha256').update(await readFile('/usr/bin/sleep')).digest('hex'));
    assert.equal(exec.ppid, process.pid);
    assert.equal(exec.parentExe, await readlink('/proc/self/exe'));
    assert.equal(exec.uid, process.getuid!());
    assert.equal(exec.mntns, await mntnsOf(process.pid));
    assert.ok(exec.pidns! > 0);
    await sensed.waitFor('exit of sleep', is('exit', (e) => e.pid === child.pid));
    assert.equal(sensed.events.filter((e) => e.pid === child.pid && e.type === 'exec').length, 1, 'one exec per process');
  });

  it('reports IPv4 and IPv6 listen, connect and accept once each, with the peer of a dual-stack listener as IPv4', async () => {
    const v4 = createServer((socket) => sockets.push(socket));
    const v6 = createServer((socket) => sockets.push(socket));
    const dual = createServer((socket) => sockets.push(socket));
    servers.push(v4, v6, dual);
    const [v4Port, v6Port, dualPort] = [await listen(v4, '127.0.0.1'), await listen(v6, '::1'), await listen(dual, '::')];
    const [client4, client6, clientDual] = [await connect('127.0.0.1', v4Port), await connect('::1', v6Port), await connect('127.0.0.1', dualPort)];
    sockets.push(client4, client6, clientDual);
    const mine = (e: RawEvent & { port: number; localPort?: number }) => e.pid === process.pid;

    const listen4 = await sensed.waitFor('listen v4', is('listen', (e) => mine(e) && e.port === v4Port));
    assert.deepEqual([listen4.protocol, listen4.family, listen4.address], ['tcp', 4, '127.0.0.1']);
    const listen6 = await sensed.waitFor('listen v6', is('listen', (e) => mine(e) && e.port === v6Port));
    assert.deepEqual([listen6.family, listen6.address], [6, '::1']);
    const listenDual = await sensed.waitFor('listen dual', is('listen', (e) => mine(e) && e.port === dualPort));
    assert.deepEqual([listenDual.family, listenDual.address], [6, '::']);

    const connect4 = await sensed.waitFor('connect v4', is('connect', (e) => mine(e) && e.port === v4Port));
    assert.deepEqual([connect4.protocol, connect4.family, connect4.address], ['tcp', 4, '127.0.0.1']);
    const connect6 = await sensed.waitFor('connect v6', is('connect', (e) => mine(e) && e.port === v6Port));
    assert.deepEqual([connect6.family, connect6.address], [6, '::1']);

    const accept4 = await sensed.waitFor('accept v4', is('accept', (e) => mine(e) && e.localPort === v4Port));
    assert.deepEqual([accept4.family, accept4.address, accept4.port], [4, '127.0.0.1', client4.localPort]);
    const accept6 = await sensed.waitFor('accept v6', is('accept', (e) => mine(e) && e.localPort === v6Port));
    assert.deepEqual([accept6.family, accept6.address, accept6.port], [6, '::1', client6.localPort]);
    const acceptDual = await sensed.waitFor('accept dual', is('accept', (e) => mine(e) && e.localPort === dualPort));
    assert.deepEqual([acceptDual.family, acceptDual.address, acceptDual.port], [4, '127.0.0.1', clientDual.localPort], 'a v4-mapped peer is reported as IPv4');

    const pollsNow = sensed.sensor.stats().polls;
    while (sensed.sensor.stats().polls < pollsNow + 3) await new Promise((resolve) => setTimeout(resolve, 20));
    const mineOnPorts = sensed.events.filter((e) => e.pid === process.pid && 'port' in e && [v4Port, v6Port, dualPort].includes(e.localPort ?? e.port));
    assert.equal(mineOnPorts.filter((e) => e.type === 'listen').length, 3, 'each listening socket once');
    assert.equal(mineOnPorts.filter((e) => e.type === 'connect').length, 3, 'each connection once');
    assert.equal(mineOnPorts.filter((e) => e.type === 'accept').length, 3, 'each accepted connection once');
  });
});

describe('procfs sensor on containers (real engine)', { skip: unavailable }, () => {
  let dir: string;
  let sensed: Sensed;
  const containers: string[] = [];

  async function runContainer(args: string[]): Promise<{ id: string; pid: number; mntns: number }> {
    const name = `nomine-procfs-${suffix}-${containers.length}`;
    containers.push(name);
    const { stdout } = await run('docker', ['run', '-d', '--name', name, ...args]);
    const { stdout: pid } = await run('docker', ['inspect', '-f', '{{.State.Pid}}', name]);
    const statePid = Number(pid.trim());
    return { id: stdout.trim(), pid: statePid, mntns: statePid > 0 ? await mntnsOf(statePid) : 0 };
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nomine-procfs-e2e-'));
    await busyboxRootfs(join(dir, 'rootfs'));
    await symlink('busybox', join(dir, 'rootfs/bin/nc'));
    await tarDirectory(join(dir, 'rootfs'), join(dir, 'rootfs.tar'));
    await dockerImport(join(dir, 'rootfs.tar'), image);
    sensed = startSensor();
  });

  after(async () => {
    await sensed?.stop();
    if (containers.length) await run('docker', ['rm', '-f', ...containers]).catch(() => undefined);
    await removeImage(image);
    await rm(dir, { recursive: true, force: true });
  });

  it('sees a container process, its connection to a local server, its file write and its exit', async () => {
    const accepted: Socket[] = [];
    // Keeps each connection open for a second, then ends it (nc exits when the server closes).
    const server = createServer((socket) => {
      accepted.push(socket);
      setTimeout(() => socket.end(), 1000);
    });
    const port = await listen(server, '127.0.0.1');
    try {
      const [longLived, client, writer] = await Promise.all([
        runContainer(['--network', 'none', image, 'sleep', '30']),
        runContainer(['--network', 'host', image, 'sh', '-c', `sleep 3 | nc 127.0.0.1 ${port}`]),
        runContainer(['--network', 'none', image, 'sh', '-c', 'exec 3>/tmp/out; sleep 2']),
      ]);

      const exec = await sensed.waitFor('exec in the long-lived container', is('exec', (e) => e.pid === longLived.pid));
      assert.equal(exec.exe, '/bin/busybox');
      assert.deepEqual(exec.argv, ['sleep', '30']);
      assert.equal(exec.mntns, longLived.mntns);
      assert.notEqual(exec.mntns, await mntnsOf(process.pid));

      const connectEvent = await sensed.waitFor('connect from nc', is('connect', (e) => e.port === port && e.mntns === client.mntns), 5000, (e) => e.mntns === client.mntns || ('port' in e && (e.port === port || e.localPort === port)));
      assert.deepEqual([connectEvent.protocol, connectEvent.family, connectEvent.address], ['tcp', 4, '127.0.0.1']);
      assert.equal(connectEvent.comm, 'nc');
      const acceptEvent = await sensed.waitFor('accept in this process', is('accept', (e) => e.localPort === port));
      assert.equal(acceptEvent.pid, process.pid);

      const write = await sensed.waitFor('write to /tmp/out', is('file-write', (e) => e.path === '/tmp/out' && e.mntns === writer.mntns));
      assert.ok(write.flags?.includes('O_WRONLY'));
      await sensed.waitFor('exit of the writer', is('exit', (e) => e.pid === write.pid), 6000);
      assert.equal(sensed.events.filter((e) => e.type === 'file-write' && e.pid === write.pid && e.path === '/tmp/out').length, 1, 'one file-write per (process, path)');
    } finally {
      for (const socket of accepted) socket.destroy();
      server.close();
    }
  });
});
