import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cgroupUsageFile, coresBetween, createCpuSampler, parseCpuacctUsage, parseCpuStatUsage } from './cpu-sampler.ts';
import { parseMountinfo, parseProcCgroup } from './sensors/procfs-parse.ts';
import type { RawEvent } from './event.ts';

describe('parseCpuacctUsage and parseCpuStatUsage', () => {
  it('read nanoseconds from cpuacct.usage and usage_usec from cpu.stat', () => {
    assert.equal(parseCpuacctUsage('123456789012\n'), 123456789012);
    assert.equal(parseCpuStatUsage('usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n'), 1_500_000);
    assert.equal(parseCpuStatUsage('user_usec 1000\nusage_usec 7\n'), 7000);
  });

  it('refuse garbage, negative, fractional and oversized values', () => {
    for (const bad of ['', 'abc', '-5', '1.5', '1 2', `${'9'.repeat(25)}`, '99999999999999999999']) assert.equal(parseCpuacctUsage(bad), undefined, bad);
    for (const bad of ['', 'usage_usec', 'usage_usec -1', 'usage_usec 1.5', 'xusage_usec 5', 'usage_usec 99999999999999999999']) assert.equal(parseCpuStatUsage(bad), undefined, bad);
  });
});

describe('cgroupUsageFile', () => {
  const hybrid = parseMountinfo(
    [
      '32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu',
      '33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct',
      '40 31 0:35 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
    ].join('\n'),
  );
  const docker = parseProcCgroup('2:cpuacct:/docker/abc\n1:cpu:/docker/abc\n0::/docker/abc\n');

  it('prefers the cgroup v1 cpuacct hierarchy', () => {
    assert.deepEqual(cgroupUsageFile(docker, hybrid), { path: '/sys/fs/cgroup/cpuacct/docker/abc/cpuacct.usage', format: 'cpuacct.usage' });
  });

  it('finds cpuacct mounted together with cpu', () => {
    const combined = parseMountinfo('33 31 0:30 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct');
    const memberships = parseProcCgroup('4:cpu,cpuacct:/kubepods/pod1/c1\n');
    assert.equal(cgroupUsageFile(memberships, combined)?.path, '/sys/fs/cgroup/cpu,cpuacct/kubepods/pod1/c1/cpuacct.usage');
  });

  it('uses cgroup v2 cpu.stat when that is all there is', () => {
    const v2 = parseMountinfo('30 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate');
    const memberships = parseProcCgroup('0::/system.slice/docker-abc.scope\n');
    assert.deepEqual(cgroupUsageFile(memberships, v2), { path: '/sys/fs/cgroup/system.slice/docker-abc.scope/cpu.stat', format: 'cpu.stat' });
  });

  it('answers nothing for the root cgroup (the whole machine), unknown mounts or escaping paths', () => {
    assert.equal(cgroupUsageFile(parseProcCgroup('2:cpuacct:/\n0::/\n'), hybrid), undefined);
    assert.equal(cgroupUsageFile(docker, []), undefined);
    assert.equal(cgroupUsageFile(parseProcCgroup('2:cpuacct:/docker/../../etc\n'), hybrid), undefined);
  });

  it('strips the root of a mount that shows a subtree (an agent in a cgroup namespace)', () => {
    const subtree = parseMountinfo('33 31 0:30 /docker /sys/fs/cgroup/cpuacct rw - cgroup cgroup rw,cpuacct');
    assert.equal(cgroupUsageFile(parseProcCgroup('2:cpuacct:/docker/abc\n'), subtree)?.path, '/sys/fs/cgroup/cpuacct/abc/cpuacct.usage');
    assert.equal(cgroupUsageFile(parseProcCgroup('2:cpuacct:/other/abc\n'), subtree), undefined);
  });
});

describe('coresBetween', () => {
  it('divides CPU time by wall time, and refuses a counter that went back', () => {
    assert.equal(coresBetween(0, 1.5e9, 1000), 1.5);
    assert.equal(coresBetween(1e9, 1e9, 5000), 0);
    assert.equal(coresBetween(2e9, 1e9, 1000), undefined);
    assert.equal(coresBetween(0, 1e9, 0), undefined);
  });
});

describe('createCpuSampler on a written /proc and cgroup tree', () => {
  let root: string;
  let clock = 0;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'nomine-cpu-'));
    clock = 0;
    await mkdir(join(root, 'proc/self'), { recursive: true });
    await mkdir(join(root, 'cgroup/docker/c1'), { recursive: true });
    await writeFile(join(root, 'proc/self/mountinfo'), `33 31 0:30 / ${join(root, 'cgroup')} rw - cgroup cgroup rw,cpuacct\n`);
  });

  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function writeProcess(pid: number, options: { mntns: number; ticks: number; starttime: number; cgroup?: string }): Promise<void> {
    const dir = join(root, 'proc', String(pid));
    await rm(dir, { recursive: true, force: true });
    await mkdir(join(dir, 'ns'), { recursive: true });
    await symlink(`mnt:[${options.mntns}]`, join(dir, 'ns/mnt'));
    await writeFile(join(dir, 'stat'), `${pid} (p) S 1 1 1 0 -1 0 0 0 0 0 ${options.ticks} 0 0 0 20 0 1 0 ${options.starttime} 0 0\n`);
    await writeFile(join(dir, 'cgroup'), options.cgroup ?? '2:cpuacct:/\n');
  }

  async function machine(busyTicks: number, uptimeSeconds: number): Promise<void> {
    await writeFile(join(root, 'proc/stat'), `cpu  ${busyTicks} 0 0 100000 0 0 0 0 0 0\n`);
    await writeFile(join(root, 'proc/uptime'), `${uptimeSeconds}.00 0.00\n`);
  }

  function sampler(entities: { id: string; pid?: number; mntns?: number }[], source: 'auto' | 'procfs' = 'auto') {
    return createCpuSampler({ entities: () => entities, procRoot: join(root, 'proc'), source, monotonicNow: () => clock, now: () => 1_000_000 + clock });
  }

  const coresOf = (events: RawEvent[]) => Object.fromEntries(events.map((e) => [e.entityId, 'cores' in e ? e.cores : undefined]));

  it('measures a container from its cgroup and the host as the rest of the machine', async () => {
    await writeProcess(10, { mntns: 1, ticks: 0, starttime: 100, cgroup: '2:cpuacct:/docker/c1\n' });
    await writeFile(join(root, 'cgroup/docker/c1/cpuacct.usage'), '0\n');
    await machine(1000, 100);
    const sample = sampler([{ id: 'c1', pid: 10 }, { id: 'host' }]);
    assert.deepEqual(await sample.sample(), [], 'the first sample is the baseline');

    clock = 2000; // two seconds: the container used 1.5 cores, the machine 2 cores in all
    await writeFile(join(root, 'cgroup/docker/c1/cpuacct.usage'), `${3e9}\n`);
    await machine(1000 + 400, 102);
    const events = await sample.sample();
    assert.deepEqual(coresOf(events), { c1: 1.5, host: 0.5 });
    assert.deepEqual(
      events.map((e) => ('intervalMs' in e ? [e.type, e.intervalMs, e.at] : [])),
      [
        ['cpu-sample', 2000, 1_002_000],
        ['cpu-sample', 2000, 1_002_000],
      ],
    );
  });

  it('sums the processes of a mount namespace when there is no cgroup, counting a process started meanwhile', async () => {
    await writeProcess(10, { mntns: 7, ticks: 100, starttime: 500 });
    await writeProcess(11, { mntns: 8, ticks: 999, starttime: 500 }); // another namespace: not counted
    await machine(0, 10);
    const sample = sampler([{ id: 'c1', pid: 10 }]);
    await sample.sample();

    clock = 1000;
    await writeProcess(10, { mntns: 7, ticks: 150, starttime: 500 }); // +0.5 s
    await writeProcess(12, { mntns: 7, ticks: 30, starttime: 1050 }); // started after the first sample: all 0.3 s count
    await writeProcess(11, { mntns: 8, ticks: 5000, starttime: 500 });
    await machine(0, 11);
    assert.deepEqual(coresOf(await sample.sample()), { c1: 0.8 });
  });

  it('resets the baseline of a process it sees for the first time that was already running, instead of counting its past', async () => {
    await writeProcess(10, { mntns: 7, ticks: 100, starttime: 500 });
    await machine(0, 10);
    const sample = sampler([{ id: 'c1', mntns: 7 }], 'procfs');
    await sample.sample();
    clock = 1000;
    await writeProcess(13, { mntns: 7, ticks: 90_000, starttime: 200 }); // joined the namespace, started long ago
    await machine(0, 11);
    assert.deepEqual(coresOf(await sample.sample()), { c1: 0 });
  });

  it('skips an entity whose cgroup counter went back (a new cgroup under the same path)', async () => {
    await writeProcess(10, { mntns: 1, ticks: 0, starttime: 100, cgroup: '2:cpuacct:/docker/c1\n' });
    await writeFile(join(root, 'cgroup/docker/c1/cpuacct.usage'), `${5e9}\n`);
    await machine(0, 1);
    const sample = sampler([{ id: 'c1', pid: 10 }]);
    await sample.sample();
    clock = 1000;
    await writeFile(join(root, 'cgroup/docker/c1/cpuacct.usage'), '1000\n');
    assert.deepEqual(await sample.sample(), []);
    clock = 2000;
    await writeFile(join(root, 'cgroup/docker/c1/cpuacct.usage'), `${1000 + 2.5e8}\n`);
    assert.deepEqual(coresOf(await sample.sample()), { c1: 0.25 });
  });
});
