/**
 * The procfs sensor's bookkeeping against a /proc tree written by the test (procRoot option): pid reuse, exec in a
 * running process, runc's init stage, socket and file dedupe, limits and hostile content, all deterministic. The real
 * /proc and real containers are in test/e2e/agent-procfs-sensor.test.ts.
 */
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RawEvent } from '../event.ts';
import type { SensorStatus } from '../sensor.ts';
import { createProcfsSensor, socketEventKind, type ProcfsSensorOptions } from './procfs-sensor.ts';
import { parseSocketTable } from './procfs-parse.ts';

let root: string;
let exePath: string;
const exeBytes = Buffer.from('#!/bin/false\nnot really a program\n');

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'nomine-fakeproc-'));
  exePath = join(root, 'program');
  await writeFile(exePath, exeBytes);
  await writeFile(join(root, 'uptime'), '1000.00 1500.00\n');
  await mkdir(join(root, 'self'));
  await writeFile(join(root, 'self/stat'), '1 (init) S 0 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1 0 0\n');
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

interface FakeProcess {
  pid: number;
  comm: string;
  starttime?: number;
  ppid?: number;
  flags?: number;
  uid?: number;
  argv?: string[];
  mntns?: number;
  netns?: number;
  /** fd → link target (`socket:[N]`, a path). */
  fds?: Record<number, string>;
  /** fd → octal flags as fdinfo prints them. */
  fdFlags?: Record<number, string>;
  tcp?: string[];
  udp?: string[];
}

const tcpHeader = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode';
function tcpLine(local: string, remote: string, state: string, inode: number): string {
  return `   0: ${local} ${remote} ${state} 00000000:00000000 00:00000000 00000000     0        0 ${inode} 1 0000000000000000 20 4 0 10 -1`;
}

async function writeProcess(p: FakeProcess): Promise<void> {
  const dir = join(root, String(p.pid));
  await rm(dir, { recursive: true, force: true });
  await mkdir(join(dir, 'fd'), { recursive: true });
  await mkdir(join(dir, 'fdinfo'));
  await mkdir(join(dir, 'ns'));
  await mkdir(join(dir, 'net'));
  const stat = `${p.pid} (${p.comm}) S ${p.ppid ?? 1} ${p.pid} ${p.pid} 0 -1 ${p.flags ?? 4194560} 0 0 0 0 5 6 0 0 20 0 1 0 ${p.starttime ?? 500} 0 0`;
  await writeFile(join(dir, 'stat'), `${stat}\n`);
  await writeFile(join(dir, 'status'), `Name:\t${p.comm}\nUid:\t${p.uid ?? 0}\t${p.uid ?? 0}\t${p.uid ?? 0}\t${p.uid ?? 0}\n`);
  await writeFile(join(dir, 'cmdline'), (p.argv ?? [p.comm]).map((a) => `${a}\0`).join(''));
  await symlink(exePath, join(dir, 'exe'));
  await symlink(`mnt:[${p.mntns ?? 4026531840}]`, join(dir, 'ns/mnt'));
  await symlink('pid:[4026531836]', join(dir, 'ns/pid'));
  await symlink(`net:[${p.netns ?? 4026531992}]`, join(dir, 'ns/net'));
  for (const [fd, target] of Object.entries(p.fds ?? {})) {
    await symlink(target, join(dir, 'fd', fd));
    await writeFile(join(dir, 'fdinfo', fd), `pos:\t0\nflags:\t${p.fdFlags?.[Number(fd)] ?? '02'}\nmnt_id:\t25\n`);
  }
  await writeFile(join(dir, 'net/tcp'), [tcpHeader, ...(p.tcp ?? [])].join('\n') + '\n');
  await writeFile(join(dir, 'net/udp'), [tcpHeader, ...(p.udp ?? [])].join('\n') + '\n');
}

function sensorWith(options: ProcfsSensorOptions = {}) {
  const sensor = createProcfsSensor({ procRoot: root, now: () => 2_000_000, ...options });
  const events: RawEvent[] = [];
  const statuses: SensorStatus[] = [];
  return {
    sensor,
    events,
    statuses,
    /** Polls once and answers the events it produced. */
    async poll(): Promise<RawEvent[]> {
      const from = events.length;
      await sensor.poll({ sink: (event) => events.push(event), onStatus: (status) => statuses.push(status) });
      return events.slice(from);
    },
  };
}

const brief = (events: RawEvent[]) => events.map((e) => `${e.type} ${e.pid} ${e.comm}`);

describe('procfs sensor processes', () => {
  it('reports an exec with what /proc says about the process', async () => {
    await writeProcess({ pid: 100, comm: 'miner', ppid: 1, uid: 1000, argv: ['./miner', '-o', 'pool:3333'], mntns: 4026532001, starttime: 90_000 });
    const [exec] = await sensorWith().poll();
    assert.deepEqual(exec, {
      type: 'exec',
      at: 2_000_000 - 1_000_000 + 900_000, // boot (now − uptime) + starttime ticks at 100 Hz
      sensor: 'procfs',
      pid: 100,
      mntns: 4026532001,
      pidns: 4026531836,
      comm: 'miner',
      ppid: 1,
      uid: 1000,
      exe: exePath,
      argv: ['./miner', '-o', 'pool:3333'],
      sha256: createHash('sha256').update(exeBytes).digest('hex'),
    });
  });

  it('treats a reused pid as the exit of one process and the exec of another', async () => {
    const sensed = sensorWith();
    await writeProcess({ pid: 100, comm: 'first', starttime: 500 });
    assert.deepEqual(brief(await sensed.poll()), ['exec 100 first']);
    assert.deepEqual(brief(await sensed.poll()), [], 'nothing new while it runs');
    await writeProcess({ pid: 100, comm: 'second', starttime: 900 });
    assert.deepEqual(brief(await sensed.poll()), ['exit 100 first', 'exec 100 second']);
    await rm(join(root, '100'), { recursive: true });
    assert.deepEqual(brief(await sensed.poll()), ['exit 100 second']);
  });

  it('reports an exec in a running process (same start time, new comm) without an exit', async () => {
    const sensed = sensorWith();
    await writeProcess({ pid: 100, comm: 'entrypoint.sh', starttime: 500 });
    await sensed.poll();
    await writeProcess({ pid: 100, comm: 'xmrig', starttime: 500, argv: ['xmrig'] });
    const events = await sensed.poll();
    assert.deepEqual(brief(events), ['exec 100 xmrig']);
    assert.deepEqual((events[0] as RawEvent & { argv: string[] }).argv, ['xmrig']);
  });

  it("stays quiet about kernel threads and runc's init stage, then reports the container's command", async () => {
    const sensed = sensorWith();
    await writeProcess({ pid: 2, comm: 'kthreadd', flags: 0x00208040 });
    await writeProcess({ pid: 300, comm: 'runc:[2:INIT]', starttime: 700 });
    assert.deepEqual(brief(await sensed.poll()), []);
    await writeProcess({ pid: 300, comm: 'sleep', starttime: 700 });
    assert.deepEqual(brief(await sensed.poll()), ['exec 300 sleep']);
    await rm(join(root, '2'), { recursive: true });
    await rm(join(root, '300'), { recursive: true });
    assert.deepEqual(brief(await sensed.poll()), ['exit 300 sleep']);
  });

  it('names the parent executable, and reports the parent before the child', async () => {
    const sensed = sensorWith();
    await writeProcess({ pid: 200, comm: 'child', ppid: 100, starttime: 600 });
    await writeProcess({ pid: 100, comm: 'parent', starttime: 500 });
    const events = await sensed.poll();
    assert.deepEqual(brief(events), ['exec 100 parent', 'exec 200 child']);
    assert.equal((events[1] as RawEvent & { parentExe?: string }).parentExe, exePath);
  });

  it('ignores garbage where stat should be and keeps going', async () => {
    await writeProcess({ pid: 100, comm: 'fine' });
    await mkdir(join(root, '101'));
    await writeFile(join(root, '101/stat'), '\u0000\u0001 garbage (((');
    await mkdir(join(root, '102'));
    await writeFile(join(root, '102/stat'), 'x'.repeat(100_000));
    assert.deepEqual(brief(await sensorWith().poll()), ['exec 100 fine']);
  });

  it('counts processes beyond its limit as dropped and says so', async () => {
    const sensed = sensorWith({ limits: { maxTrackedProcesses: 2 } });
    for (const pid of [100, 101, 102]) await writeProcess({ pid, comm: `p${pid}` });
    assert.equal((await sensed.poll()).length, 2);
    assert.equal(sensed.sensor.stats().droppedProcesses, 1);
    assert.deepEqual(
      sensed.statuses.map((s) => [s.kind, s.count]),
      [['lost-events', 1]],
    );
  });
});

describe('procfs sensor sockets and files', () => {
  const listening = tcpLine('0100007F:1F90', '00000000:0000', '0A', 556); // 127.0.0.1:8080
  const outbound = tcpLine('0100007F:C350', '0500000A:0D05', '01', 555); // → 10.0.0.5:3333
  const inbound = tcpLine('0100007F:1F90', '0100007F:D431', '01', 557); // peer 127.0.0.1:54321 on :8080

  it('reports listen, connect and accept once per socket, for the process holding it', async () => {
    const sensed = sensorWith();
    await writeProcess({ pid: 100, comm: 'server', fds: { 3: 'socket:[556]', 4: 'socket:[557]' }, tcp: [listening, outbound, inbound] });
    await writeProcess({ pid: 200, comm: 'client', fds: { 3: 'socket:[555]' } });
    const events = await sensed.poll();
    const sockets = events.filter((e) => e.type === 'listen' || e.type === 'connect' || e.type === 'accept');
    // Each process's events follow its own exec; across processes the order is not fixed.
    const byType = (a: RawEvent, b: RawEvent) => ['listen', 'connect', 'accept'].indexOf(a.type) - ['listen', 'connect', 'accept'].indexOf(b.type);
    assert.deepEqual(
      sockets.map((e) => ({ ...e, at: 0 })).sort(byType),
      [
        { type: 'listen', at: 0, sensor: 'procfs', pid: 100, mntns: 4026531840, pidns: 4026531836, comm: 'server', protocol: 'tcp', family: 4, address: '127.0.0.1', port: 8080 },
        { type: 'connect', at: 0, sensor: 'procfs', pid: 200, mntns: 4026531840, pidns: 4026531836, comm: 'client', protocol: 'tcp', family: 4, address: '10.0.0.5', port: 3333 },
        { type: 'accept', at: 0, sensor: 'procfs', pid: 100, mntns: 4026531840, pidns: 4026531836, comm: 'server', protocol: 'tcp', family: 4, address: '127.0.0.1', port: 54321, localPort: 8080 },
      ],
    );
    assert.deepEqual(await sensed.poll(), [], 'nothing twice');
    assert.equal(sensed.sensor.stats().trackedSockets, 3);
  });

  it('forgets a closed socket, so its memory stays bounded by live sockets', async () => {
    const sensed = sensorWith();
    await writeProcess({ pid: 100, comm: 'server', fds: { 3: 'socket:[556]' }, tcp: [listening] });
    await sensed.poll();
    await writeProcess({ pid: 100, comm: 'server', fds: {}, tcp: [] });
    await sensed.poll();
    assert.equal(sensed.sensor.stats().trackedSockets, 0);
  });

  it('waits a few polls for the owner of a socket whose process it has not seen yet', async () => {
    const sensed = sensorWith();
    await writeProcess({ pid: 100, comm: 'other', tcp: [outbound] });
    assert.equal((await sensed.poll()).filter((e) => e.type === 'connect').length, 0);
    await writeProcess({ pid: 200, comm: 'late', fds: { 3: 'socket:[555]' } });
    const connects = (await sensed.poll()).filter((e) => e.type === 'connect');
    assert.deepEqual(brief(connects), ['connect 200 late']);
  });

  it('reports a UDP service port as listening but not a client socket on an ephemeral port', async () => {
    const sensed = sensorWith();
    const dns = tcpLine('00000000:0035', '00000000:0000', '07', 601);
    const client = tcpLine('00000000:9C40', '00000000:0000', '07', 602); // port 40000
    const connected = tcpLine('0100007F:9C41', '08080808:0035', '01', 603);
    await writeProcess({ pid: 100, comm: 'dns', fds: { 3: 'socket:[601]', 4: 'socket:[602]', 5: 'socket:[603]' }, udp: [dns, client, connected] });
    const events = (await sensed.poll()).filter((e) => e.type !== 'exec');
    assert.deepEqual(
      events.map((e) => [e.type, 'protocol' in e && e.protocol, 'address' in e && e.address, 'port' in e && e.port]),
      [
        ['listen', 'udp', '0.0.0.0', 53],
        ['connect', 'udp', '8.8.8.8', 53],
      ],
    );
  });

  it('reports a regular file held open for writing once, and not read-only files or devices', async () => {
    const sensed = sensorWith();
    const written = join(root, 'out.log');
    const read = join(root, 'in.txt');
    await writeFile(written, '');
    await writeFile(read, '');
    await writeProcess({
      pid: 100,
      comm: 'writer',
      fds: { 1: '/dev/null', 3: written, 4: read, 5: written },
      fdFlags: { 1: '0100001', 3: '0102001', 4: '0100000', 5: '0100002' },
    });
    const events = await sensed.poll();
    assert.deepEqual(
      events.filter((e) => e.type === 'file-write').map((e) => ('path' in e ? [e.path, e.flags] : [])),
      [[written, ['O_WRONLY', 'O_APPEND']]],
    );
    assert.deepEqual(await sensed.poll(), []);
  });

  it('cuts an oversized socket table at its limit and still reads the whole lines before the cut', async () => {
    const sensed = sensorWith({ limits: { maxSocketTableBytes: 2_000 } });
    const filler = Array.from({ length: 40 }, (_, i) => tcpLine('0100007F:1F90', '0100007F:D431', '06', 0).replace('   0:', `  ${i}:`));
    await writeProcess({ pid: 100, comm: 'server', fds: { 3: 'socket:[556]' }, tcp: [listening, ...filler, tcpLine('0100007F:C350', '0500000A:0D05', '01', 999)] });
    const events = await sensed.poll();
    assert.deepEqual(brief(events.filter((e) => e.type === 'listen')), ['listen 100 server']);
    assert.equal(sensed.sensor.stats().truncatedSocketTables, 1);
  });
});

describe('socketEventKind', () => {
  const [entry] = parseSocketTable(tcpLine('0100007F:1F90', '0100007F:D431', '08', 1), 'tcp');
  it('counts a connection that is closing (CLOSE_WAIT) as established, and SYN_SENT not yet', () => {
    assert.equal(socketEventKind(entry!, new Set(), [32768, 60999]), 'connect');
    assert.equal(socketEventKind({ ...entry!, state: 0x02 }, new Set(), [32768, 60999]), undefined);
    assert.equal(socketEventKind(entry!, new Set([8080]), [32768, 60999]), 'accept');
  });
});
