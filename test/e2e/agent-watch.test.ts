/**
 * `nomine agent watch` end to end, as a user runs it: containers on the real Docker Engine run commands, connect
 * to a server on 127.0.0.x and write files, and the agent reports exactly those events attributed to the right
 * container — with the eBPF sensor, the /proc sensor, and Falco's JSON output read from a file. A fault test kills
 * bpftrace and restarts a (private) Docker Engine under a running agent.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { startAgent, type AgentProcess } from '../helpers/agent-process.ts';
import { dockerUnavailable, removeImage } from '../helpers/image-builder.ts';
import { PrivateDockerd } from '../helpers/private-dockerd.ts';
import { tempHome } from '../helpers/run-cli.ts';
import { buildWorkloadImage, removeContainer } from '../helpers/runtime-workloads.ts';

const run = promisify(execFile);
const dockerSkip = await dockerUnavailable();
const rootSkip = process.getuid?.() === 0 ? false : 'the eBPF sensor needs root';
const image = `nomine-watch:${process.pid}`;

interface WatchedEvent {
  type: string;
  entityId: string;
  entityName: string;
  pid: number;
  exe?: string;
  argv?: string[];
  address?: string;
  port?: number;
  path?: string;
  counts?: Record<string, number>;
  cores?: number;
}

function events(agent: AgentProcess): WatchedEvent[] {
  return agent.stdout().split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as WatchedEvent);
}

async function until<T>(what: string, agent: AgentProcess, probe: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`never saw ${what}; log:\n${agent.log().slice(-3000)}\nevents:\n${agent.stdout().slice(-3000)}`);
    await sleep(200);
  }
}

/** A TCP server on 127.0.0.4 that holds every connection open for a while (so /proc polling sees it). */
async function holdingServer(): Promise<{ server: Server; port: number; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    setTimeout(() => socket.destroy(), 3000).unref();
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.4', resolve));
  return { server, port: (server.address() as { port: number }).port, sockets };
}

describe('nomine agent watch', { skip: dockerSkip || rootSkip, timeout: 240_000 }, () => {
  let home: string;
  let target: Awaited<ReturnType<typeof holdingServer>>;
  const containers: string[] = [];

  before(async () => {
    home = await tempHome('nomine-watch-');
    await buildWorkloadImage(image);
    target = await holdingServer();
  });

  after(async () => {
    for (const name of containers) await removeContainer(name);
    await removeImage(image);
    for (const socket of target?.sockets ?? []) socket.destroy();
    target?.server.close();
    if (home) await rm(home, { recursive: true, force: true });
  });

  async function workload(name: string, script: string): Promise<string> {
    containers.push(name);
    const { stdout } = await run('docker', ['run', '-d', '--name', name, '--network', 'host', image, 'sh', '-c', script]);
    return stdout.trim();
  }

  it('sees exec, connect, file writes, syscalls and CPU of a container with the eBPF sensor, attributed to it', async () => {
    const agent = startAgent(['watch', '--json', '--sensor', 'ebpf', '--cpu-interval', '1000'], home);
    try {
      await agent.waitForLog(/sensor ebpf started/, 60_000);
      const name = `nomine-watch-ebpf-${process.pid}`;
      const id = await workload(name, `sleep 1; echo written > /tmp/out; nc 127.0.0.4 ${target.port} </dev/null; sleep 3`);
      const mine = () => events(agent).filter((event) => event.entityId === id);
      const exec = await until('the exec of sh', agent, () => mine().find((e) => e.type === 'exec' && e.argv?.[0] === 'sh'));
      assert.equal(exec.entityName, name);
      assert.deepEqual(exec.argv?.slice(1, 2), ['-c']);
      const connect = await until('the connect to 127.0.0.4', agent, () => mine().find((e) => e.type === 'connect' && e.address === '127.0.0.4'));
      assert.equal(connect.port, target.port);
      await until('the write of /tmp/out', agent, () => mine().find((e) => e.type === 'file-write' && e.path === '/tmp/out'));
      const syscalls = await until('syscall counts', agent, () => mine().find((e) => e.type === 'syscalls'));
      assert.ok(Object.keys(syscalls.counts ?? {}).includes('connect'), 'connect is among the counted syscalls');
      await until('a CPU sample', agent, () => mine().find((e) => e.type === 'cpu-sample'));
      await until('the exit of sh', agent, () => mine().find((e) => e.type === 'exit' && e.pid === exec.pid), 15_000);
      // Nothing the container did was attributed elsewhere.
      assert.equal(events(agent).filter((e) => e.entityId !== id && e.type === 'connect' && e.address === '127.0.0.4').length, 0);
    } finally {
      await agent.stop();
    }
  });

  it('sees a container\'s processes, connections and open files with the /proc sensor', async () => {
    const agent = startAgent(['watch', '--json', '--sensor', 'procfs', '--poll-ms', '100', '--cpu-interval', '0'], home);
    try {
      await agent.waitForLog(/sensor procfs/, 30_000);
      await sleep(500);
      const name = `nomine-watch-procfs-${process.pid}`;
      const id = await workload(name, `exec 3>/tmp/held; sleep 4 | nc 127.0.0.4 ${target.port}`);
      const mine = () => events(agent).filter((event) => event.entityId === id);
      const exec = await until('an exec in the container', agent, () => mine().find((e) => e.type === 'exec'));
      assert.equal(exec.entityName, name);
      await until('the connection to 127.0.0.4', agent, () => mine().find((e) => e.type === 'connect' && e.address === '127.0.0.4' && e.port === target.port));
      await until('the file held open for writing', agent, () => mine().find((e) => e.type === 'file-write' && e.path === '/tmp/held'));
      assert.match(agent.log(), /short-lived processes/, 'the /proc sensor says what it misses');
    } finally {
      await agent.stop();
    }
  });

  it('maps Falco JSON output to the same events, attributed to the running container Falco named', async () => {
    const name = `nomine-watch-falco-${process.pid}`;
    const id = await workload(name, 'sleep 60');
    const short = id.slice(0, 12);
    const fields = { 'container.id': short, 'container.name': name, 'proc.pid': 4242, 'proc.ppid': 4200, 'user.uid': 0 };
    const lines = [
      { rule: 'Drop and execute new binary in container', priority: 'Critical', time: new Date().toISOString(), source: 'syscall', output: 'x', output_fields: { ...fields, 'evt.type': 'execve', 'proc.exepath': '/tmp/kworker', 'proc.cmdline': 'kworker -o pool:3333', 'proc.args': '-o pool:3333', 'proc.name': 'kworker' } },
      { rule: 'Outbound connection to stratum port', priority: 'Warning', time: new Date().toISOString(), source: 'syscall', output: 'x', output_fields: { ...fields, 'evt.type': 'connect', 'fd.l4proto': 'tcp', 'fd.rip': '127.0.0.2', 'fd.rport': 3333, 'fd.typechar': '4', 'fd.type': 'ipv4' } },
    ];
    const file = join(home, 'falco.jsonl');
    await writeFile(file, `${lines.map((line) => JSON.stringify(line)).join('\n')}\nnot json at all\n`);
    const agent = startAgent(['watch', '--json', '--sensor', 'falco', '--input', file, '--duration', '4'], home);
    await agent.waitForLog(/events, \d+ dropped/, 30_000);
    await agent.stop();
    const seen = events(agent);
    const exec = seen.find((e) => e.type === 'exec');
    assert.equal(exec?.entityId, id, agent.log());
    assert.equal(exec?.entityName, name);
    assert.equal(exec?.exe, '/tmp/kworker');
    const connect = seen.find((e) => e.type === 'connect');
    assert.equal(connect?.address, '127.0.0.2');
    assert.equal(connect?.port, 3333);
    assert.equal(connect?.entityId, id);
  });
});

describe('nomine agent watch under faults', { skip: dockerSkip || rootSkip, timeout: 240_000 }, () => {
  let dir: string;
  let engine: PrivateDockerd;
  let home: string;

  before(async () => {
    dir = await mkdtemp(join('/tmp', 'nmw-'));
    home = await tempHome('nomine-watch-fault-');
    engine = new PrivateDockerd(dir);
    await engine.start();
    // The image is built in the shared engine and loaded into the private one.
    await buildWorkloadImage(image);
    await run('sh', ['-c', `docker save ${image} | docker -H unix://${engine.socket} load`]);
  });

  after(async () => {
    await run('docker', ['-H', `unix://${engine.socket}`, 'rm', '-f', 'nomine-fault-a', 'nomine-fault-b']).catch(() => undefined);
    await engine?.remove();
    await removeImage(image);
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('keeps going when bpftrace is killed and when the Docker Engine restarts, and says what happened', async () => {
    const agent = startAgent(['watch', '--json', '--sensor', 'ebpf', '--cpu-interval', '0', '--docker-socket', engine.socket], home);
    try {
      const started = await agent.waitForLog(/sensor ebpf started: .*\(pid (\d+)\)/, 60_000);
      process.kill(Number(started[1]), 'SIGKILL');
      await agent.waitForLog(/sensor ebpf restarted/, 30_000);
      const docker = (...args: string[]) => run('docker', ['-H', `unix://${engine.socket}`, ...args]);
      const a = (await docker('run', '-d', '--name', 'nomine-fault-a', '--network', 'host', image, 'sh', '-c', 'sleep 1; echo after-bpftrace > /tmp/a; sleep 30')).stdout.trim();
      await until('events after bpftrace was killed', agent, () => events(agent).find((e) => e.entityId === a && e.type === 'file-write' && e.path === '/tmp/a'), 30_000);

      await engine.stop();
      await agent.waitForLog(/docker disconnected/, 30_000);
      await engine.start();
      await agent.waitForLog(/docker disconnected[\s\S]*docker connected/, 60_000);
      const b = (await docker('run', '-d', '--name', 'nomine-fault-b', '--network', 'host', image, 'sh', '-c', 'sleep 1; echo after-restart > /tmp/b; sleep 30')).stdout.trim();
      const write = await until('events of a container started after the engine restart', agent, () => events(agent).find((e) => e.entityId === b && e.type === 'file-write' && e.path === '/tmp/b'), 30_000);
      assert.equal(write.entityName, 'nomine-fault-b');
    } finally {
      await agent.stop();
    }
  });
});
