/**
 * Entities against the real Docker Engine: containers appear in the registry (from the initial list and from the
 * events stream) with what Docker and /proc say about them, a Kubernetes-labelled one with its pod and workload;
 * a stop is announced; containerd's view of Docker's managed containerd (namespace moby) finds the same containers
 * and merges with Docker's; events are attributed by namespace and by cgroup. The fault test restarts a Docker
 * Engine under a running watch: a private dockerd (own sockets, data and exec roots), so the shared engine that
 * other tests use at the same time keeps running and keeps its containers.
 */
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { createAttribution } from '../../src/agent/attribution.ts';
import type { Entity, EntityChange } from '../../src/agent/entity.ts';
import { createEntityRegistry, type EntityRegistry } from '../../src/agent/entity-registry.ts';
import type { RawEvent, RuntimeEvent } from '../../src/agent/event.ts';
import { createContainerdRuntime } from '../../src/agent/runtimes/containerd-runtime.ts';
import { createDockerRuntime, type DockerRuntime } from '../../src/agent/runtimes/docker-runtime.ts';
import type { RuntimeStatus } from '../../src/agent/runtimes/runtime.ts';
import { busyboxRootfs, dockerUnavailable, tarDirectory } from '../helpers/image-builder.ts';
import { PrivateDockerd } from '../helpers/private-dockerd.ts';

const run = promisify(execFile);
const unavailable = process.getuid?.() === 0 ? await dockerUnavailable() : 'needs root (reads /proc of container processes)';
const suffix = randomBytes(4).toString('hex');
const image = `nomine-entities-e2e:${suffix}`;
const plain = `nomine-entities-plain-${suffix}`;
const podContainer = `nomine-entities-pod-${suffix}`;
/** Docker 20.10's managed containerd keeps its runtime v2 state here. */
const dockerContainerdRoot = '/var/run/docker/containerd/daemon';
/** PID 1 of a container ignores SIGTERM unless it handles it: this one does, so `docker stop` is immediate. */
const command = ['sh', '-c', 'trap "exit 0" TERM; while :; do sleep 1; done'];

async function until<T>(what: string, probe: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const inode = (path: string) => statSync(path).ino;

async function docker(args: string[], host?: string): Promise<string> {
  const { stdout } = await run('docker', [...(host ? ['-H', `unix://${host}`] : []), ...args]);
  return stdout.trim();
}

async function inspectContainer(name: string, host?: string): Promise<{ Id: string; Image: string; State: { Pid: number; StartedAt: string } }> {
  return (JSON.parse(await docker(['inspect', name], host)) as [{ Id: string; Image: string; State: { Pid: number; StartedAt: string } }])[0];
}

async function buildImage(dir: string, host?: string): Promise<string> {
  await busyboxRootfs(join(dir, 'rootfs'));
  await tarDirectory(join(dir, 'rootfs'), join(dir, 'rootfs.tar'));
  return docker(['import', '--change', `CMD ${JSON.stringify(command)}`, join(dir, 'rootfs.tar'), image], host);
}

describe('entities of the real Docker Engine', { skip: unavailable, timeout: 60_000 }, () => {
  let dir: string;
  let imageId: string;
  let registry: EntityRegistry;
  let dockerRuntime: DockerRuntime;
  const controller = new AbortController();
  const changes: EntityChange[] = [];
  const statuses: string[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nomine-entities-e2e-'));
    imageId = await buildImage(dir);
    // One container runs before the registry starts (found by listing), the other starts after (found by events).
    await docker(['run', '-d', '--name', plain, '--network', 'none', image]);
    dockerRuntime = createDockerRuntime({ retryInitialMs: 100, retryMaxMs: 1_000 });
    registry = createEntityRegistry({
      runtimes: [dockerRuntime, createContainerdRuntime({ roots: [dockerContainerdRoot], pollIntervalMs: 200 })],
      onStatus: (runtime, status) => statuses.push(`${runtime}:${status.kind}`),
    });
    registry.subscribe((change) => changes.push(change));
    await registry.start(controller.signal);
    await docker([
      'run', '-d', '--name', podContainer, '--network', 'none',
      '--label', 'io.kubernetes.pod.name=kv-store-6c9f8d7b5-x2x4z',
      '--label', 'io.kubernetes.pod.namespace=shop',
      '--label', 'io.kubernetes.container.name=kv',
      '--label', 'io.kubernetes.docker.type=container',
      image,
    ]);
  });

  after(async () => {
    controller.abort();
    await registry?.stopped();
    await dockerRuntime?.close();
    await run('docker', ['rm', '-f', plain, podContainer]).catch(() => undefined);
    await run('docker', ['rmi', '--force', image]).catch(() => undefined);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function expectEntity(name: string): Promise<Entity> {
    const inspected = await inspectContainer(name);
    const entity = await until(`entity ${name}`, () => registry.byId(inspected.Id));
    assert.equal(entity.id, inspected.Id);
    assert.equal(entity.name, name);
    assert.equal(entity.runtime, 'docker');
    assert.equal(entity.image, image);
    assert.equal(entity.imageDigest, imageId);
    assert.equal(entity.imageDigest, inspected.Image);
    assert.equal(entity.startedAt, Math.floor(Date.parse(inspected.State.StartedAt)));
    assert.ok(Math.abs(entity.startedAt! - Date.now()) < 120_000);
    assert.equal(entity.pid, inspected.State.Pid);
    assert.equal(entity.mntns, inode(`/proc/${inspected.State.Pid}/ns/mnt`));
    assert.equal(entity.pidns, inode(`/proc/${inspected.State.Pid}/ns/pid`));
    assert.notEqual(entity.mntns, inode('/proc/self/ns/mnt'));
    return entity;
  }

  it('lists a container that ran before it started, with what Docker and /proc say about it', async () => {
    const entity = await expectEntity(plain);
    assert.equal(entity.kubernetes, undefined);
    assert.ok(statuses.includes('docker:connected'), statuses.join());
    assert.ok(statuses.includes('containerd:connected'), statuses.join());
  });

  it('sees a container started later through the events stream, with its pod and owning Deployment', async () => {
    const entity = await expectEntity(podContainer);
    assert.deepEqual(entity.kubernetes, { namespace: 'shop', pod: 'kv-store-6c9f8d7b5-x2x4z', container: 'kv', workload: { kind: 'Deployment', name: 'kv-store' } });
    assert.equal(entity.labels['io.kubernetes.pod.namespace'], 'shop');
    assert.ok(changes.some((c) => c.type === 'start' && c.entity.id === entity.id));
  });

  it('has the host and each container once, though Docker and containerd both see them', async () => {
    const ids = [(await inspectContainer(plain)).Id, (await inspectContainer(podContainer)).Id];
    // Give containerd's poll time to have seen both.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const entities = registry.entities();
    assert.equal(entities[0]?.id, 'host');
    assert.equal(entities[0]?.mntns, inode('/proc/self/ns/mnt'));
    for (const id of ids) {
      const same = entities.filter((e) => e.id === id);
      assert.equal(same.length, 1);
      assert.equal(same[0]!.runtime, 'docker', 'Docker’s richer record wins');
    }
    assert.equal(new Set(entities.map((e) => e.id)).size, entities.length);
  });

  it('finds the same containers through Docker’s managed containerd state (namespace moby)', async () => {
    const problems: string[] = [];
    const containerd = createContainerdRuntime({ roots: [dockerContainerdRoot], namespaces: ['moby'], onProblem: (p) => problems.push(p) });
    const listed = await containerd.list();
    for (const name of [plain, podContainer]) {
      const inspected = await inspectContainer(name);
      const entity = listed.find((e) => e.id === inspected.Id);
      assert.ok(entity, `${name} not found by the containerd runtime`);
      assert.equal(entity.runtime, 'containerd');
      assert.equal(entity.namespace, 'moby');
      assert.equal(entity.pid, inspected.State.Pid);
      assert.equal(entity.mntns, inode(`/proc/${inspected.State.Pid}/ns/mnt`));
      assert.equal(entity.pidns, inode(`/proc/${inspected.State.Pid}/ns/pid`));
    }
    assert.deepEqual(problems, []);
  });

  it('attributes events by namespace, by container id prefix, and by the cgroup of a process it cannot place', async () => {
    const pod = await inspectContainer(podContainer);
    const emitted: RuntimeEvent[] = [];
    const attribution = createAttribution(registry, { emit: (event) => emitted.push(event), pendingTimeoutMs: 2_000 });
    try {
      const exec = (context: Omit<Partial<RawEvent>, 'type'> & { pid: number }): RawEvent => ({ type: 'exec', at: Date.now(), sensor: 'procfs', ppid: 1, uid: 0, exe: '/bin/sh', argv: ['sh'], ...context });
      const byNamespace = attribution.attribute(exec({ pid: pod.State.Pid, mntns: inode(`/proc/${pod.State.Pid}/ns/mnt`), pidns: inode(`/proc/${pod.State.Pid}/ns/pid`) }));
      assert.equal((byNamespace as RuntimeEvent).entityId, pod.Id);
      const byPrefix = attribution.attribute(exec({ pid: 7, containerId: pod.Id.slice(0, 12) }));
      assert.equal((byPrefix as RuntimeEvent).entityId, pod.Id);
      const host = attribution.attribute(exec({ pid: process.pid, mntns: inode('/proc/self/ns/mnt') }));
      assert.equal((host as RuntimeEvent).entityId, 'host');
      // A sensor that saw only the pid: /proc/PID/cgroup (/docker/<id> with cgroupfs v1 here) names the container.
      assert.equal(attribution.attribute(exec({ pid: pod.State.Pid })), 'pending');
      await until('the cgroup-attributed event', () => emitted[0]);
      assert.equal(emitted[0]!.entityId, pod.Id);
      assert.deepEqual({ ...attribution.stats(), waiting: 0 }, { attributed: 4, attributedHost: 1, pending: 1, resolvedLater: 1, waiting: 0, droppedUnattributed: 0, droppedOverflow: 0, refreshes: 0 });
    } finally {
      attribution.close();
    }
  });

  it('announces a stop when a container stops, and still resolves it for late events', async () => {
    const { Id: id } = await inspectContainer(plain);
    const stopsBefore = changes.filter((c) => c.type === 'stop' && c.entityId === id).length;
    await docker(['stop', '-t', '5', plain]);
    const stop = await until('the stop change', () => changes.find((c) => c.type === 'stop' && c.entityId === id));
    assert.equal(stopsBefore, 0);
    assert.ok(stop.type === 'stop' && Math.abs(stop.at - Date.now()) < 30_000);
    assert.ok(!registry.entities().some((e) => e.id === id));
    assert.equal(registry.byId(id)?.name, plain);
    assert.equal(registry.isStopped(id), true);
    // containerd's later poll of the same run must not bring it back.
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.ok(!registry.entities().some((e) => e.id === id));
    assert.equal(changes.filter((c) => c.type === 'stop' && c.entityId === id).length, 1);
  });
});

describe('Docker runtime across an engine restart', { skip: unavailable, timeout: 90_000 }, () => {
  let dir: string;
  let engine: PrivateDockerd;
  let runtime: DockerRuntime;
  const controller = new AbortController();
  let watching: Promise<void> | undefined;

  before(async () => {
    // Short: unix socket paths (containerd's under the exec root) are limited to 108 bytes.
    dir = await mkdtemp(join('/tmp', 'nmd-'));
    engine = new PrivateDockerd(dir);
    await engine.start();
    await buildImage(join(dir, 'image'), engine.socket);
  });

  after(async () => {
    controller.abort();
    await watching;
    await runtime?.close();
    if (engine) await engine.remove();
    else if (dir) await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  });

  it('reports disconnected, then connected, and catches up with what changed meanwhile', async () => {
    const changes: EntityChange[] = [];
    const statuses: RuntimeStatus[] = [];
    await docker(['run', '-d', '--name', 'before-restart', '--network', 'none', image], engine.socket);
    const before = await inspectContainer('before-restart', engine.socket);
    runtime = createDockerRuntime({ socketPath: engine.socket, retryInitialMs: 100, retryMaxMs: 500 });
    watching = runtime.watch((c) => changes.push(c), (s) => statuses.push(s), controller.signal);
    await until('connected', () => statuses.some((s) => s.kind === 'connected'));
    await until('the running container', () => changes.find((c) => c.type === 'start' && c.entity.id === before.Id));

    await engine.stop(); // takes its containers down with it (no live-restore)
    await until('disconnected', () => statuses.some((s) => s.kind === 'disconnected'));
    await new Promise((resolve) => setTimeout(resolve, 300)); // a few refused reconnection attempts
    await engine.start();
    await until('connected again', () => statuses.filter((s) => s.kind === 'connected').length >= 2, 15_000);
    assert.deepEqual(
      statuses.filter((s) => s.kind !== 'error').map((s) => s.kind),
      ['connected', 'disconnected', 'connected'],
      'one disconnected for the outage, not one per attempt',
    );
    // The container died with the engine: the re-list reports it stopped even if its die event was never read.
    await until('the stop of the container that died with the engine', () => changes.find((c) => c.type === 'stop' && c.entityId === before.Id));

    await docker(['run', '-d', '--name', 'after-restart', '--network', 'none', image], engine.socket);
    const later = await inspectContainer('after-restart', engine.socket);
    const started = await until('the container started after the restart', () =>
      changes.find((c): c is Extract<EntityChange, { type: 'start' }> => c.type === 'start' && c.entity.id === later.Id),
    );
    assert.equal(started.entity.pid, later.State.Pid);
    assert.equal(started.entity.mntns, inode(`/proc/${later.State.Pid}/ns/mnt`));
    await docker(['rm', '-f', 'after-restart', 'before-restart'], engine.socket).catch(() => undefined);
  });
});
