import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cgroupOwner, createAttribution, type ProcessIdentity } from './attribution.ts';
import type { Entity } from './entity.ts';
import { createEntityRegistry } from './entity-registry.ts';
import type { RawEvent, RuntimeEvent } from './event.ts';
import type { ContainerRuntime } from './runtimes/runtime.ts';

const hostMntns = 4026531832;
const hostPidns = 4026531836;
const idA = `${'a'.repeat(12)}${'1'.repeat(52)}`;
const idB = `${'b'.repeat(12)}${'2'.repeat(52)}`;
const containerA: Entity = { id: idA, name: 'web', runtime: 'docker', pid: 100, mntns: 4026532001, pidns: 4026532002, labels: {} };
const containerB: Entity = { id: idB, name: 'late', runtime: 'docker', pid: 300, mntns: 4026532301, pidns: 4026532302, labels: {} };

function exec(fields: Partial<RawEvent>): RawEvent {
  return { type: 'exec', at: 1_000_000, sensor: 'ebpf', pid: 4242, ppid: 1, uid: 0, exe: '/bin/sh', argv: ['sh'], ...fields } as RawEvent;
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

/** A registry with container A known, B known only to the runtime's inspect, a fake clock and a scripted /proc. */
function setup(processes: Record<number, ProcessIdentity> = {}, options: { maxPendingEvents?: number; inspectGate?: Promise<void> } = {}) {
  let time = 1_000_000;
  const inspectable = [containerB];
  const runtime: ContainerRuntime = {
    name: 'docker',
    list: async () => [containerA],
    inspect: async (id) => {
      await options.inspectGate;
      return inspectable.find((e) => e.id.startsWith(id));
    },
    watch: async () => undefined,
  };
  const registry = createEntityRegistry({ runtimes: [runtime], hostMntns, hostPidns, hostName: 'node', now: () => time });
  registry.apply('docker', { type: 'start', entity: containerA });
  const emitted: RuntimeEvent[] = [];
  const reads: number[] = [];
  const attribution = createAttribution(registry, {
    emit: (event) => emitted.push(event),
    now: () => time,
    pendingTimeoutMs: 1_000,
    sweepIntervalMs: 0,
    maxPendingEvents: options.maxPendingEvents,
    readProcess: async (pid) => {
      reads.push(pid);
      return processes[pid];
    },
  });
  return { registry, attribution, emitted, reads, inspectable, advance: (ms: number) => (time += ms) };
}

describe('cgroupOwner', () => {
  const hex = 'f'.repeat(64);
  it('finds the container id in the layouts of Docker, containerd and CRI-O', () => {
    const cases = [
      `12:pids:/docker/${hex}\n11:memory:/docker/${hex}\n0::/docker/${hex}\n`,
      `0::/system.slice/docker-${hex}.scope\n`,
      `0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1b2c3d4e_5f60_7182_93a4_b5c6d7e8f901.slice/cri-containerd-${hex}.scope\n`,
      `4:memory:/kubepods/besteffort/pod1b2c3d4e-5f60-7182-93a4-b5c6d7e8f901/${hex}\n`,
      `0::/machine.slice/libpod-${hex}.scope/container\n`,
      `0::/kubepods.slice/kubepods-pod1.slice/crio-${hex}.scope\n`,
    ];
    for (const text of cases) assert.deepEqual(cgroupOwner(text), { kind: 'container', id: hex }, text);
  });

  it('takes the innermost container of nested Docker', () => {
    const outer = '1'.repeat(64);
    assert.deepEqual(cgroupOwner(`0::/docker/${outer}/docker/${hex}\n`), { kind: 'container', id: hex });
  });

  it('says host for the root and for system services', () => {
    assert.deepEqual(cgroupOwner('9:name=systemd:/\n8:pids:/\n0::/\n'), { kind: 'host' });
    assert.deepEqual(cgroupOwner('0::/system.slice/sshd.service\n'), { kind: 'host' });
    assert.deepEqual(cgroupOwner('0::/user.slice/user-0.slice/session-3.scope\n'), { kind: 'host' });
  });

  it('does not call a process in a runtime tree without a readable id the host', () => {
    assert.equal(cgroupOwner('0::/kubepods.slice/kubepods-besteffort.slice\n'), undefined);
    assert.equal(cgroupOwner('0::/docker/not-an-id\n'), undefined);
    assert.equal(cgroupOwner(`0::/docker/${hex.slice(0, 63)}\n`), undefined);
  });

  it('answers nothing for garbage, truncation and empty input', () => {
    for (const text of ['', 'garbage', '0::', '\0\0\0', '12:pids', `0::docker/${hex}`, 'x'.repeat(100_000)]) assert.equal(cgroupOwner(text), undefined, JSON.stringify(text.slice(0, 20)));
    assert.equal(cgroupOwner(`0::/docker/${hex.toUpperCase()}`), undefined);
  });
});

describe('attribution', () => {
  it('attributes by the entity id, the container id (prefix), the mount and the pid namespace', () => {
    const { attribution } = setup();
    assert.equal((attribution.attribute(exec({ entityId: idA })) as RuntimeEvent).entityId, idA);
    assert.equal((attribution.attribute(exec({ containerId: idA.slice(0, 12) })) as RuntimeEvent).entityId, idA);
    assert.equal((attribution.attribute(exec({ containerId: 'host' })) as RuntimeEvent).entityId, 'host');
    assert.equal((attribution.attribute(exec({ mntns: containerA.mntns })) as RuntimeEvent).entityId, idA);
    assert.equal((attribution.attribute(exec({ mntns: 1, pidns: containerA.pidns })) as RuntimeEvent).entityId, idA);
    assert.equal((attribution.attribute(exec({ mntns: hostMntns, pidns: hostPidns })) as RuntimeEvent).entityId, 'host');
    assert.equal(attribution.stats().attributed, 6);
    assert.equal(attribution.stats().attributedHost, 2);
  });

  it('keeps the event and its namespaces but drops the sensor-side hints', () => {
    const { attribution } = setup();
    const event = attribution.attribute(exec({ containerId: idA, pod: { namespace: 'a', name: 'b' }, mntns: containerA.mntns, pidns: 77 }));
    assert.notEqual(event, 'pending');
    assert.deepEqual(event, { type: 'exec', at: 1_000_000, sensor: 'ebpf', pid: 4242, ppid: 1, uid: 0, exe: '/bin/sh', argv: ['sh'], mntns: containerA.mntns, pidns: 77, entityId: idA });
  });

  it('prefers the namespaces an event carries to an unknown container id', () => {
    const { attribution } = setup();
    assert.equal((attribution.attribute(exec({ containerId: 'deadbeefdead', mntns: containerA.mntns })) as RuntimeEvent).entityId, idA);
  });

  it('does not take the host pid namespace for the host when the mount namespace is unknown', async () => {
    const { attribution, emitted } = setup({ 4242: { cgroup: `0::/docker/${idA}\n`, mntns: 4026539999 } });
    assert.equal(attribution.attribute(exec({ mntns: 4026539999, pidns: hostPidns })), 'pending');
    await tick();
    assert.equal(emitted[0]?.entityId, idA, 'the cgroup shows a container (one that unshared its mount namespace)');
  });

  it('holds an event of a container not yet known and releases it when the container starts', () => {
    const { attribution, registry, emitted } = setup();
    const raw = exec({ mntns: containerB.mntns, pidns: containerB.pidns, pid: 4300 });
    assert.equal(attribution.attribute(raw), 'pending');
    assert.equal(attribution.stats().waiting, 1);
    registry.apply('docker', { type: 'start', entity: containerB });
    assert.equal(emitted.length, 1);
    assert.equal(emitted[0]!.entityId, idB);
    assert.deepEqual(attribution.stats(), { attributed: 1, attributedHost: 0, pending: 1, resolvedLater: 1, waiting: 0, droppedUnattributed: 0, droppedOverflow: 0, refreshes: 0 });
  });

  it('reads the cgroup of an unknown process and asks the runtimes about the container it names', async () => {
    const { attribution, emitted, reads } = setup({ 4300: { cgroup: `0::/system.slice/docker-${idB}.scope\n`, mntns: containerB.mntns } });
    assert.equal(attribution.attribute(exec({ pid: 4300, mntns: containerB.mntns })), 'pending');
    assert.equal(attribution.attribute(exec({ pid: 4300, mntns: containerB.mntns, type: 'exit' } as Partial<RawEvent>)), 'pending');
    await tick();
    await tick();
    assert.deepEqual(reads, [4300], 'one /proc read for the pid');
    assert.deepEqual(emitted.map((e) => [e.entityId, e.type]), [[idB, 'exec'], [idB, 'exit']]);
    assert.equal(attribution.stats().refreshes, 1);
  });

  it('attributes a host service with a private mount namespace to the host, then remembers its namespaces', async () => {
    const serviceNs = { mntns: 4026532555, pidns: hostPidns };
    const { attribution, emitted, reads } = setup({ 4400: { cgroup: '0::/system.slice/chronyd.service\n', mntns: serviceNs.mntns } });
    assert.equal(attribution.attribute(exec({ pid: 4400, ...serviceNs })), 'pending');
    await tick();
    assert.equal(emitted[0]?.entityId, 'host');
    const next = attribution.attribute(exec({ pid: 4401, ...serviceNs }));
    assert.equal((next as RuntimeEvent).entityId, 'host');
    assert.deepEqual(reads, [4400]);
  });

  it('does not let a reused pid lend its cgroup to another process’s event', async () => {
    // The event came from a container process; by the time /proc is read the pid belongs to a host process.
    const { attribution, emitted, advance } = setup({ 4500: { cgroup: '0::/\n', mntns: hostMntns } });
    assert.equal(attribution.attribute(exec({ pid: 4500, mntns: 4026538888, pidns: 4026538889 })), 'pending');
    await tick();
    assert.equal(emitted.length, 0);
    advance(1_001);
    attribution.sweep();
    assert.equal(attribution.stats().droppedUnattributed, 1);
    assert.equal(attribution.stats().attributedHost, 0);
  });

  it('drops and counts an event whose process vanished and whose entity never appeared', async () => {
    const { attribution, emitted, advance } = setup();
    assert.equal(attribution.attribute(exec({ pid: 4600, mntns: 4026537777 })), 'pending');
    await tick();
    advance(999);
    attribution.sweep();
    assert.equal(attribution.stats().waiting, 1);
    advance(2);
    attribution.sweep();
    assert.equal(emitted.length, 0);
    assert.equal(attribution.stats().droppedUnattributed, 1);
    assert.equal(attribution.stats().waiting, 0);
  });

  it('drops a container event when even the runtimes do not know the container', async () => {
    const unknown = 'e'.repeat(64);
    const { attribution, emitted, advance } = setup({ 4700: { cgroup: `0::/docker/${unknown}\n`, mntns: 4026536666 } });
    attribution.attribute(exec({ pid: 4700, mntns: 4026536666 }));
    await tick();
    await tick();
    advance(1_001);
    attribution.sweep();
    assert.equal(emitted.length, 0);
    assert.equal(attribution.stats().droppedUnattributed, 1);
    assert.equal(attribution.stats().attributedHost, 0, 'a container process is never passed off as the host');
  });

  it('waits one more timeout while the runtimes are being asked', async () => {
    let answer!: () => void;
    const inspectGate = new Promise<void>((resolve) => (answer = resolve));
    const { attribution, emitted, advance } = setup({ 4800: { cgroup: `0::/docker/${idB}\n`, mntns: containerB.mntns } }, { inspectGate });
    attribution.attribute(exec({ pid: 4800, mntns: containerB.mntns }));
    await tick();
    advance(1_001);
    attribution.sweep();
    assert.equal(attribution.stats().droppedUnattributed, 0);
    assert.equal(attribution.stats().waiting, 1);
    answer();
    await tick();
    await tick();
    assert.equal(emitted[0]?.entityId, idB);
    assert.equal(attribution.stats().waiting, 0);
  });

  it('bounds the pending buffer, dropping the oldest with a count', () => {
    const { attribution, registry, emitted } = setup({}, { maxPendingEvents: 3 });
    for (let i = 0; i < 5; i += 1) attribution.attribute(exec({ pid: 5000 + i, mntns: containerB.mntns, argv: [`n${i}`] }));
    assert.equal(attribution.stats().droppedOverflow, 2);
    registry.apply('docker', { type: 'start', entity: containerB });
    assert.deepEqual(emitted.map((e) => (e as RuntimeEvent & { argv: string[] }).argv[0]), ['n2', 'n3', 'n4']);
  });

  it('resolves the last events of a stopped container within the grace period', () => {
    const { attribution, registry } = setup();
    registry.apply('docker', { type: 'stop', entityId: idA, at: 1_000_500 });
    const event = attribution.attribute(exec({ mntns: containerA.mntns, at: 1_000_400, type: 'exit' } as Partial<RawEvent>));
    assert.equal((event as RuntimeEvent).entityId, idA);
  });
});
