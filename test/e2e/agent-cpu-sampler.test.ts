/**
 * CPU sampling against real containers: a busy loop and an idle sleep from a busybox image, sampled over a short
 * interval through cgroup accounting and through /proc sums by mount namespace. The busy one must show most of a
 * core and the idle one next to none, whichever way it is measured. Both run under a parent cgroup of the test's
 * own with a high CPU weight, so other work on the machine does not starve the loop below what is asserted.
 */
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, rmdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { createCpuSampler, type CpuSource } from '../../src/agent/cpu-sampler.ts';
import type { RawEvent } from '../../src/agent/event.ts';
import { busyboxRootfs, dockerImport, dockerUnavailable, removeImage, tarDirectory } from '../helpers/image-builder.ts';

const run = promisify(execFile);
const unavailable = await dockerUnavailable();
const suffix = randomBytes(4).toString('hex');
const image = `nomine-cpu-e2e:${suffix}`;
const busyName = `nomine-cpu-busy-${suffix}`;
const idleName = `nomine-cpu-idle-${suffix}`;
/** The test's own parent cgroup, so the busy loop can be given the CPU weight to run on a machine busy with other work. */
const cgroupParent = `/nomine-cpu-e2e-${suffix}`;

/** Raises the CPU weight of the test's parent cgroup above the root's tasks (cgroup v1 cpu.shares, v2 cpu.weight). */
async function favourCgroupParent(): Promise<void> {
  for (const [file, value] of [
    [`/sys/fs/cgroup/cpu${cgroupParent}/cpu.shares`, '262144'],
    [`/sys/fs/cgroup/cpu,cpuacct${cgroupParent}/cpu.shares`, '262144'],
    [`/sys/fs/cgroup${cgroupParent}/cpu.weight`, '10000'],
  ]) {
    await writeFile(file!, value!).catch(() => undefined);
  }
}

/** docker leaves the parent cgroup behind: remove it from every hierarchy once the containers are gone. */
async function removeCgroupParent(): Promise<void> {
  const hierarchies = await readdir('/sys/fs/cgroup').catch(() => [] as string[]);
  for (const dir of [...hierarchies.map((h) => `/sys/fs/cgroup/${h}${cgroupParent}`), `/sys/fs/cgroup${cgroupParent}`]) await rmdir(dir).catch(() => undefined);
}

async function statePid(name: string): Promise<number> {
  const { stdout } = await run('docker', ['inspect', '-f', '{{.State.Pid}}', name]);
  return Number(stdout.trim());
}

describe('cpu sampler on containers (real engine)', { skip: unavailable }, () => {
  let dir: string;
  let entities: { id: string; pid: number }[];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nomine-cpu-e2e-'));
    await busyboxRootfs(join(dir, 'rootfs'));
    await tarDirectory(join(dir, 'rootfs'), join(dir, 'rootfs.tar'));
    await dockerImport(join(dir, 'rootfs.tar'), image);
    const common = ['run', '-d', '--network', 'none', '--cgroup-parent', cgroupParent];
    await run('docker', [...common, '--name', busyName, image, 'sh', '-c', 'while :; do :; done']);
    await run('docker', [...common, '--name', idleName, image, 'sleep', '60']);
    await favourCgroupParent();
    entities = [
      { id: busyName, pid: await statePid(busyName) },
      { id: idleName, pid: await statePid(idleName) },
    ];
  });

  after(async () => {
    await run('docker', ['rm', '-f', busyName, idleName]).catch(() => undefined);
    await removeCgroupParent();
    await removeImage(image);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  for (const source of ['auto', 'procfs'] satisfies CpuSource[]) {
    it(`shows the busy container near a core and the idle one near none (${source === 'auto' ? 'cgroup accounting' : '/proc sums'})`, async () => {
      const sampler = createCpuSampler({ entities: () => [...entities, { id: 'host' }], source });
      await sampler.sample();
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const events = await sampler.sample();
      const cores = (id: string) => (events.find((e) => e.entityId === id) as (RawEvent & { cores: number; intervalMs: number }) | undefined);
      const busy = cores(busyName);
      const idle = cores(idleName);
      assert.ok(busy && idle, `a sample for each container: ${JSON.stringify(events)}`);
      assert.ok(busy.cores > 0.5, `busy container used ${busy.cores} cores`);
      assert.ok(idle.cores < 0.1, `idle container used ${idle.cores} cores`);
      assert.ok(busy.intervalMs >= 1000 && busy.intervalMs < 2000);
      assert.ok(events.some((e) => e.entityId === 'host'), 'the host is sampled too');
    });
  }
});
