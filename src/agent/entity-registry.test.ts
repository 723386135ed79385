import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Entity, EntityChange } from './entity.ts';
import { createEntityRegistry, stoppedLookupSlackMs } from './entity-registry.ts';
import type { ContainerRuntime, RuntimeName, RuntimeStatus } from './runtimes/runtime.ts';

const idA = 'a'.repeat(12) + '1'.repeat(52);
const idB = 'b'.repeat(12) + '2'.repeat(52);
const idC = 'c'.repeat(12) + '3'.repeat(52);

function entity(id: string, fields: Partial<Entity> = {}): Entity {
  return { id, name: `name-${id.slice(0, 4)}`, runtime: 'docker', pid: 100, mntns: 4026532001, pidns: 4026532002, labels: {}, ...fields };
}

/** A runtime the test drives by hand: what it lists on connecting, then changes pushed through `push`. */
function scriptedRuntime(name: RuntimeName, initial: Entity[], inspectable: Entity[] = []) {
  let push: ((change: EntityChange) => void) | undefined;
  let status: ((status: RuntimeStatus) => void) | undefined;
  const inspected: string[] = [];
  const runtime: ContainerRuntime = {
    name,
    list: async () => initial,
    async watch(onChange, onStatus, signal) {
      push = onChange;
      status = onStatus;
      for (const item of initial) onChange({ type: 'start', entity: item });
      onStatus({ kind: 'connected', message: 'scripted' });
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    },
    async inspect(id) {
      inspected.push(id);
      return inspectable.find((item) => item.id.startsWith(id));
    },
  };
  return {
    runtime,
    inspected,
    push: (change: EntityChange) => push!(change),
    status: (s: RuntimeStatus) => status!(s),
  };
}

function fakeClock(start = 1_000_000) {
  let time = start;
  return { now: () => time, advance: (ms: number) => (time += ms) };
}

async function started(runtimes: ContainerRuntime[], extra: Partial<Parameters<typeof createEntityRegistry>[0]> = {}) {
  const clock = fakeClock();
  const controller = new AbortController();
  const registry = createEntityRegistry({ runtimes, hostMntns: 4026531832, hostPidns: 4026531836, hostName: 'node-1', now: clock.now, ...extra });
  const changes: EntityChange[] = [];
  registry.subscribe((change) => changes.push(change));
  await registry.start(controller.signal);
  return { registry, clock, changes, stop: () => controller.abort() };
}

describe('entity registry', () => {
  it('always has the host, with the host namespaces', async () => {
    const { registry, stop } = await started([]);
    assert.deepEqual(registry.entities().map((e) => e.id), ['host']);
    assert.equal(registry.host().name, 'node-1');
    assert.equal(registry.byMountNamespace(4026531832)?.id, 'host');
    assert.equal(registry.byId('host')?.runtime, 'host');
    stop();
  });

  it('lists what the runtimes report before start resolves, and indexes it', async () => {
    const docker = scriptedRuntime('docker', [entity(idA), entity(idB, { pid: 200, mntns: 4026532101, pidns: 4026532102 })]);
    const { registry, stop } = await started([docker.runtime]);
    assert.deepEqual(registry.entities().map((e) => e.id).sort(), [idA, idB, 'host'].sort());
    assert.equal(registry.byId(idA)?.name, 'name-aaaa');
    assert.equal(registry.byContainerIdPrefix(idB.slice(0, 12))?.id, idB);
    assert.equal(registry.byContainerIdPrefix(idB.slice(0, 20).toUpperCase())?.id, idB);
    assert.equal(registry.byContainerIdPrefix(idB.slice(0, 8)), undefined, 'a short prefix is too ambiguous');
    assert.equal(registry.byContainerIdPrefix(`${idB.slice(0, 12)}ffff`), undefined);
    assert.equal(registry.byMountNamespace(4026532101)?.id, idB);
    assert.equal(registry.byPidNamespace(4026532002)?.id, idA);
    assert.equal(registry.byMountNamespace(999), undefined);
    stop();
  });

  it('merges a container Docker and containerd both see into one entity, Docker describing it', async () => {
    const docker = scriptedRuntime('docker', [entity(idA, { name: 'web', image: 'web:1', imageDigest: 'sha256:abc', mntns: undefined })]);
    const containerd = scriptedRuntime('containerd', [entity(idA, { name: idA.slice(0, 12), runtime: 'containerd', namespace: 'moby', mntns: 4026532001 })]);
    const { registry, changes, stop } = await started([docker.runtime, containerd.runtime]);
    const containers = registry.entities().filter((e) => e.id !== 'host');
    assert.equal(containers.length, 1);
    assert.equal(containers[0]!.name, 'web');
    assert.equal(containers[0]!.runtime, 'docker');
    assert.equal(containers[0]!.imageDigest, 'sha256:abc');
    assert.equal(containers[0]!.mntns, 4026532001, 'containerd filled in what Docker could not read');
    assert.equal(registry.byMountNamespace(4026532001)?.name, 'web');
    const lastStart = changes.filter((c): c is Extract<EntityChange, { type: 'start' }> => c.type === 'start').at(-1);
    assert.equal(lastStart?.entity.name, 'web', 'subscribers hear of the merged record');
    stop();
  });

  it('stops the merged entity when Docker says so, not when containerd merely loses sight of it', async () => {
    const docker = scriptedRuntime('docker', [entity(idA)]);
    const containerd = scriptedRuntime('containerd', [entity(idA, { runtime: 'containerd', namespace: 'moby' })]);
    const { registry, changes, clock, stop } = await started([docker.runtime, containerd.runtime]);
    containerd.push({ type: 'stop', entityId: idA, at: clock.now() });
    assert.equal(registry.isStopped(idA), false);
    assert.equal(changes.filter((c) => c.type === 'stop').length, 0);
    containerd.push({ type: 'start', entity: entity(idA, { runtime: 'containerd', namespace: 'moby' }) });
    docker.push({ type: 'stop', entityId: idA, at: clock.now() });
    assert.equal(registry.isStopped(idA), true);
    assert.deepEqual(changes.filter((c) => c.type === 'stop'), [{ type: 'stop', entityId: idA, at: clock.now() }]);
    // containerd's poll catching up on the same run neither revives it nor stops it twice.
    containerd.push({ type: 'start', entity: entity(idA, { runtime: 'containerd', namespace: 'moby' }) });
    containerd.push({ type: 'stop', entityId: idA, at: clock.now() });
    assert.equal(registry.isStopped(idA), true);
    assert.equal(changes.filter((c) => c.type === 'stop').length, 1);
    assert.ok(!registry.entities().some((e) => e.id === idA));
    stop();
  });

  it('does not announce a start twice for the same record, but does for a restart', async () => {
    const docker = scriptedRuntime('docker', [entity(idA)]);
    const { registry, changes, clock, stop } = await started([docker.runtime]);
    docker.push({ type: 'start', entity: entity(idA) });
    assert.equal(changes.filter((c) => c.type === 'start').length, 1);
    docker.push({ type: 'stop', entityId: idA, at: clock.now() });
    docker.push({ type: 'start', entity: entity(idA, { pid: 555, mntns: 4026532201 }) });
    assert.equal(changes.filter((c) => c.type === 'start').length, 2);
    assert.equal(registry.byId(idA)?.pid, 555);
    assert.equal(registry.isStopped(idA), false);
    assert.equal(registry.byMountNamespace(4026532201)?.id, idA);
    assert.equal(registry.byMountNamespace(4026532001, clock.now()), undefined, 'the old run’s namespace is gone');
    stop();
  });

  it('keeps a stopped entity resolvable for the grace period, then forgets it', async () => {
    const docker = scriptedRuntime('docker', [entity(idA)]);
    const { registry, clock, stop } = await started([docker.runtime], { stoppedGraceMs: 5_000 });
    const stoppedAt = clock.now();
    docker.push({ type: 'stop', entityId: idA, at: stoppedAt });
    clock.advance(4_000);
    assert.equal(registry.byId(idA)?.id, idA);
    assert.equal(registry.byContainerIdPrefix(idA.slice(0, 12))?.id, idA);
    assert.equal(registry.byMountNamespace(4026532001, stoppedAt - 10)?.id, idA, 'an event from before the stop');
    assert.equal(registry.byMountNamespace(4026532001), undefined, 'without an event time a stopped entity is not guessed');
    clock.advance(2_000);
    assert.equal(registry.byId(idA), undefined);
    assert.equal(registry.byMountNamespace(4026532001, stoppedAt - 10), undefined);
    stop();
  });

  it('does not give a reused namespace inode to a stopped container for events after its stop', async () => {
    const docker = scriptedRuntime('docker', [entity(idA)]);
    const { registry, clock, stop } = await started([docker.runtime]);
    const stoppedAt = clock.now();
    docker.push({ type: 'stop', entityId: idA, at: stoppedAt });
    assert.equal(registry.byMountNamespace(4026532001, stoppedAt + stoppedLookupSlackMs + 1), undefined);
    docker.push({ type: 'start', entity: entity(idB) }); // the kernel handed B the inodes A had
    assert.equal(registry.byMountNamespace(4026532001, stoppedAt - 5)?.id, idB, 'a running entity wins over a stopped one');
    stop();
  });

  it('bounds how many stopped entities it keeps', async () => {
    const docker = scriptedRuntime('docker', []);
    const { registry, clock, stop } = await started([docker.runtime], { maxStoppedEntities: 2 });
    for (const id of [idA, idB, idC]) {
      docker.push({ type: 'start', entity: entity(id, { mntns: undefined, pidns: undefined }) });
      docker.push({ type: 'stop', entityId: id, at: clock.now() });
    }
    assert.equal(registry.byId(idA), undefined, 'the oldest stopped entity went first');
    assert.equal(registry.byId(idB)?.id, idB);
    assert.equal(registry.byId(idC)?.id, idC);
    stop();
  });

  it('answers nothing for a pid namespace several running entities share', async () => {
    const docker = scriptedRuntime('docker', [entity(idA, { pidns: 4026531836 })]); // --pid host
    const { registry, stop } = await started([docker.runtime]);
    assert.equal(registry.byPidNamespace(4026531836), undefined);
    assert.equal(registry.byMountNamespace(4026532001)?.id, idA);
    stop();
  });

  it('finds an entity by pod only when the pod and container single it out', async () => {
    const kubernetes = { namespace: 'shop', pod: 'cart-5d78c9869d-8xh2q' };
    const docker = scriptedRuntime('docker', [
      entity(idA, { kubernetes: { ...kubernetes, container: 'app' } }),
      entity(idB, { mntns: 4026532101, kubernetes: { ...kubernetes, container: 'sidecar' } }),
    ]);
    const { registry, stop } = await started([docker.runtime]);
    assert.equal(registry.byPod('shop', kubernetes.pod, 'sidecar')?.id, idB);
    assert.equal(registry.byPod('shop', kubernetes.pod), undefined);
    assert.equal(registry.byPod('other', kubernetes.pod, 'app'), undefined);
    stop();
  });

  it('asks the runtimes about an unknown container once, and remembers a miss for a while', async () => {
    const docker = scriptedRuntime('docker', [], [entity(idB)]);
    const { registry, changes, clock, stop } = await started([docker.runtime]);
    const found = await registry.refresh(idB.slice(0, 12));
    assert.equal(found?.id, idB);
    assert.equal(changes.at(-1)?.type, 'start');
    assert.equal(await registry.refresh(idA), undefined);
    assert.equal(await registry.refresh(idA), undefined);
    assert.equal(docker.inspected.filter((id) => id === idA).length, 1);
    clock.advance(5_000);
    await registry.refresh(idA);
    assert.equal(docker.inspected.filter((id) => id === idA).length, 2);
    stop();
  });

  it('keeps going when a subscriber throws and records runtime status', async () => {
    const docker = scriptedRuntime('docker', []);
    const statuses: string[] = [];
    const { registry, changes, stop } = await started([docker.runtime], { onStatus: (runtime, s) => statuses.push(`${runtime}:${s.kind}`) });
    registry.subscribe(() => {
      throw new Error('bug');
    });
    docker.push({ type: 'start', entity: entity(idA) });
    assert.equal(changes.length, 1);
    docker.status({ kind: 'disconnected', message: 'engine gone' });
    assert.deepEqual(statuses, ['docker:connected', 'docker:disconnected']);
    assert.equal(registry.status()[0]?.kind, 'disconnected');
    stop();
  });

  it('starts without a runtime that fails, and says why', async () => {
    const broken: ContainerRuntime = {
      name: 'containerd',
      list: async () => [],
      watch: async () => {
        throw new Error('cannot watch');
      },
    };
    const docker = scriptedRuntime('docker', [entity(idA)]);
    const { registry, stop } = await started([broken, docker.runtime]);
    assert.ok(registry.byId(idA));
    assert.match(registry.status().find((s) => s.runtime === 'containerd')?.message ?? '', /cannot watch/);
    stop();
    await registry.stopped();
  });

  it('ignores a runtime claiming to be the host', async () => {
    const docker = scriptedRuntime('docker', [entity('host', { name: 'evil' })]);
    const { registry, stop } = await started([docker.runtime]);
    assert.equal(registry.host().name, 'node-1');
    stop();
  });
});
