/**
 * Entity registry: every entity on the node, merged from all runtimes, with the indexes attribution looks events up
 * by (id, 12-character id prefix, mount namespace, pid namespace, pod). The same container seen by two runtimes
 * (Docker and containerd's `moby` namespace) is one entity, described by the runtime listed first. The host is
 * always an entity. A stopped entity still resolves for a short grace period, so the last events of a dying
 * container are not lost; how many are kept is bounded.
 */
import { hostname } from 'node:os';
import { toNomineError } from '../core/errors.ts';
import { hostEntityId, type Entity, type EntityChange } from './entity.ts';
import { readHostNamespaceInodes } from './namespace-inode.ts';
import type { ContainerRuntime, RuntimeStatus } from './runtimes/runtime.ts';

/** Stopped entities still resolve this long after their stop. */
export const defaultStoppedGraceMs = 30_000;
/** Stopped entities kept for late events at most; the oldest go first. */
export const defaultMaxStoppedEntities = 1_024;
/**
 * Namespace inodes are reused lowest-free-first, so a container started just after another stopped often gets its
 * inodes. A stopped entity therefore answers a namespace lookup only for events no later than its stop plus this.
 */
export const stoppedLookupSlackMs = 1_000;
/** A container id no runtime knew is not asked about again for this long. */
export const refreshNegativeCacheMs = 2_000;
export const containerIdPrefixLength = 12;

export interface EntityRegistryOptions {
  /** Sources of entities; for a container more than one of them sees, the first one's record wins. */
  runtimes: ContainerRuntime[];
  /** The host's mount and pid namespace inodes; read from /proc (pid 1) by `start` when absent. */
  hostMntns?: number;
  hostPidns?: number;
  hostName?: string;
  procRoot?: string;
  stoppedGraceMs?: number;
  maxStoppedEntities?: number;
  /** How long `start` waits for a runtime's first answer before going on without it. */
  startTimeoutMs?: number;
  now?: () => number;
  onStatus?: (runtime: string, status: RuntimeStatus) => void;
}

export interface RuntimeState extends RuntimeStatus {
  runtime: string;
  at: number;
}

export interface EntityRegistry {
  /** Starts every runtime's watch; resolves once each has listed its entities (or failed to). */
  start(signal: AbortSignal): Promise<void>;
  /** Resolves when every watch has ended (after the start signal aborts). */
  stopped(): Promise<void>;
  /** Running entities, the host first. */
  entities(): Entity[];
  host(): Entity;
  /** A running entity, or one stopped within the grace period. */
  byId(id: string): Entity | undefined;
  /** By a container id or a prefix of at least 12 characters (what `docker ps` and Falco show). */
  byContainerIdPrefix(prefix: string): Entity | undefined;
  /**
   * The running entity in that namespace; else one stopped within the grace period, only when `at` (the event's
   * time) is given and not later than its stop (another container may have the inode by now).
   */
  byMountNamespace(inode: number, at?: number): Entity | undefined;
  /** Undefined when several running entities share the namespace (containers run with --pid host, shared pods). */
  byPidNamespace(inode: number, at?: number): Entity | undefined;
  byPod(namespace: string, pod: string, container?: string): Entity | undefined;
  /** Whether an entity has stopped (and is kept only for late events). */
  isStopped(id: string): boolean;
  /** Calls `listener` for every change after subscribing; returns the unsubscribe function. */
  subscribe(listener: (change: EntityChange) => void): () => void;
  /** Asks the runtimes about one container id an event named but the registry does not know. */
  refresh(id: string, signal?: AbortSignal): Promise<Entity | undefined>;
  /** Applies a change as if `source` reported it. */
  apply(source: string, change: EntityChange): void;
  status(): RuntimeState[];
}

interface LiveRecord {
  /** Each source's record of the entity. */
  sources: Map<string, Entity>;
  merged: Entity;
}

interface StoppedRecord {
  entity: Entity;
  /** When the runtime said it stopped. */
  stoppedAt: number;
  until: number;
}

/** Index of keys to entity ids; a key may name several (shared namespaces, a running and a stopped entity). */
class KeyIndex<K> {
  private readonly map = new Map<K, Set<string>>();
  add(key: K | undefined, id: string): void {
    if (key === undefined) return;
    let ids = this.map.get(key);
    if (!ids) this.map.set(key, (ids = new Set()));
    ids.add(id);
  }
  remove(key: K | undefined, id: string): void {
    if (key === undefined) return;
    const ids = this.map.get(key);
    if (!ids) return;
    ids.delete(id);
    if (ids.size === 0) this.map.delete(key);
  }
  get(key: K): ReadonlySet<string> | undefined {
    return this.map.get(key);
  }
}

/** Fields a lower-priority runtime may fill in when the preferred one could not read them. */
const fillableFields = ['pid', 'mntns', 'pidns', 'startedAt', 'image', 'imageDigest', 'kubernetes'] as const;

function sameEntity(a: Entity, b: Entity): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export function createEntityRegistry(options: EntityRegistryOptions): EntityRegistry {
  const now = options.now ?? Date.now;
  const graceMs = options.stoppedGraceMs ?? defaultStoppedGraceMs;
  const maxStopped = options.maxStoppedEntities ?? defaultMaxStoppedEntities;
  const priority = new Map(options.runtimes.map((runtime, index) => [runtime.name as string, index]));
  const live = new Map<string, LiveRecord>();
  const stoppedEntities = new Map<string, StoppedRecord>(); // insertion order = stop order
  const byMntns = new KeyIndex<number>();
  const byPidns = new KeyIndex<number>();
  const byPrefix = new KeyIndex<string>();
  const listeners = new Set<(change: EntityChange) => void>();
  const states = new Map<string, RuntimeState>();
  const refreshing = new Map<string, Promise<Entity | undefined>>();
  const unknownUntil = new Map<string, number>();
  let watching: Promise<unknown> = Promise.resolve();

  let hostEntity: Entity = {
    id: hostEntityId,
    name: options.hostName ?? hostname(),
    runtime: 'host',
    pid: 1,
    ...(options.hostMntns !== undefined ? { mntns: options.hostMntns } : {}),
    ...(options.hostPidns !== undefined ? { pidns: options.hostPidns } : {}),
    labels: {},
  };
  index(hostEntity);

  function index(entity: Entity): void {
    byMntns.add(entity.mntns, entity.id);
    byPidns.add(entity.pidns, entity.id);
    if (entity.id !== hostEntityId) byPrefix.add(entity.id.slice(0, containerIdPrefixLength), entity.id);
  }

  function unindex(entity: Entity): void {
    byMntns.remove(entity.mntns, entity.id);
    byPidns.remove(entity.pidns, entity.id);
    if (entity.id !== hostEntityId) byPrefix.remove(entity.id.slice(0, containerIdPrefixLength), entity.id);
  }

  function emit(change: EntityChange): void {
    for (const listener of listeners) {
      try {
        listener(change);
      } catch {
        // One subscriber's bug must not keep the others (or the runtime feeding us) from their changes.
      }
    }
  }

  function rank(source: string): number {
    return priority.get(source) ?? Number.MAX_SAFE_INTEGER;
  }

  function merge(sources: Map<string, Entity>): Entity {
    const ordered = [...sources].sort(([a], [b]) => rank(a) - rank(b)).map(([, entity]) => entity);
    const merged: Entity = { ...ordered[0]! };
    for (const other of ordered.slice(1)) {
      for (const field of fillableFields) if (merged[field] === undefined && other[field] !== undefined) (merged as unknown as Record<string, unknown>)[field] = other[field];
    }
    return merged;
  }

  function expireStopped(): void {
    if (stoppedEntities.size === 0) return;
    const at = now();
    for (const [id, record] of stoppedEntities) {
      if (record.until > at && stoppedEntities.size <= maxStopped) break;
      stoppedEntities.delete(id);
      unindex(record.entity);
    }
  }

  function sameRunAsStopped(entity: Entity): boolean {
    const stopped = stoppedEntities.get(entity.id)?.entity;
    return stopped !== undefined && stopped.pid === entity.pid && (entity.mntns === undefined || stopped.mntns === entity.mntns);
  }

  function apply(source: string, change: EntityChange): void {
    expireStopped();
    if (change.type === 'start') {
      const entity = change.entity;
      if (entity.id === hostEntityId) return;
      let record = live.get(entity.id);
      if (!record) {
        // A slower runtime reporting a run another one already saw end: stale, not a restart.
        if (sameRunAsStopped(entity)) return;
        const stopped = stoppedEntities.get(entity.id);
        if (stopped) {
          stoppedEntities.delete(entity.id);
          unindex(stopped.entity);
        }
        record = { sources: new Map(), merged: entity };
        live.set(entity.id, record);
      } else {
        unindex(record.merged);
      }
      const before = record.sources.size > 0 ? record.merged : undefined;
      record.sources.set(source, entity);
      record.merged = merge(record.sources);
      index(record.merged);
      unknownUntil.delete(entity.id);
      if (!before || !sameEntity(before, record.merged)) emit({ type: 'start', entity: record.merged });
      return;
    }
    const record = live.get(change.entityId);
    if (!record || !record.sources.has(source)) return;
    const preferred = [...record.sources.keys()].sort((a, b) => rank(a) - rank(b))[0];
    if (preferred !== source && record.sources.size > 1) {
      // The preferred runtime still sees it; this one merely lost sight of it.
      unindex(record.merged);
      record.sources.delete(source);
      record.merged = merge(record.sources);
      index(record.merged);
      return;
    }
    live.delete(change.entityId);
    stoppedEntities.set(change.entityId, { entity: record.merged, stoppedAt: change.at, until: now() + graceMs });
    expireStopped();
    emit(change);
  }

  /** The one entity `ids` names: a single running one, else the most recently stopped one that fits `at`. */
  function pick(ids: ReadonlySet<string> | undefined, at?: number): Entity | undefined {
    if (!ids || ids.size === 0) return undefined;
    expireStopped();
    let found: Entity | undefined;
    let running = 0;
    let stopped: Entity | undefined;
    for (const id of ids) {
      if (id === hostEntityId) {
        found ??= hostEntity;
        running += 1;
        continue;
      }
      const record = live.get(id);
      if (record) {
        found ??= record.merged;
        running += 1;
      } else {
        const record = stoppedEntities.get(id);
        if (record && (at === undefined || at <= record.stoppedAt + stoppedLookupSlackMs)) stopped = record.entity;
      }
    }
    if (running === 1) return found;
    return running === 0 && at !== undefined ? stopped : undefined;
  }

  function byId(id: string): Entity | undefined {
    if (id === hostEntityId) return hostEntity;
    const record = live.get(id);
    if (record) return record.merged;
    expireStopped();
    return stoppedEntities.get(id)?.entity;
  }

  function byContainerIdPrefix(prefix: string): Entity | undefined {
    const id = prefix.toLowerCase();
    if (id.length < containerIdPrefixLength) return undefined;
    const candidates = byPrefix.get(id.slice(0, containerIdPrefixLength));
    if (!candidates) return undefined;
    // Container ids are never reused: a stopped container still in its grace period matches at any time.
    const matches = [...candidates].filter((candidate) => candidate.startsWith(id)).map(byId);
    return matches.length === 1 ? matches[0] : undefined;
  }

  function setStatus(runtime: string, status: RuntimeStatus): void {
    states.set(runtime, { runtime, ...status, at: now() });
    try {
      options.onStatus?.(runtime, status);
    } catch {
      // A status listener's failure is its own.
    }
  }

  async function refresh(id: string, signal?: AbortSignal): Promise<Entity | undefined> {
    const known = id === hostEntityId ? hostEntity : byContainerIdPrefix(id);
    if (known) return known;
    if ((unknownUntil.get(id) ?? 0) > now()) return undefined;
    let pending = refreshing.get(id);
    if (!pending) {
      pending = (async () => {
        for (const runtime of [...options.runtimes].sort((a, b) => rank(a.name) - rank(b.name))) {
          if (!runtime.inspect) continue;
          try {
            const entity = await runtime.inspect(id, signal);
            if (entity) {
              apply(runtime.name, { type: 'start', entity });
              return byId(entity.id);
            }
          } catch {
            // This runtime cannot answer now; another may.
          }
        }
        unknownUntil.set(id, now() + refreshNegativeCacheMs);
        if (unknownUntil.size > maxStopped) unknownUntil.delete(unknownUntil.keys().next().value!);
        return undefined;
      })().finally(() => refreshing.delete(id));
      refreshing.set(id, pending);
    }
    return pending;
  }

  async function start(signal: AbortSignal): Promise<void> {
    if (hostEntity.mntns === undefined || hostEntity.pidns === undefined) {
      const namespaces = await readHostNamespaceInodes(options.procRoot);
      unindex(hostEntity);
      hostEntity = { ...hostEntity, mntns: hostEntity.mntns ?? namespaces.mntns, pidns: hostEntity.pidns ?? namespaces.pidns };
      if (hostEntity.mntns === undefined) delete hostEntity.mntns;
      if (hostEntity.pidns === undefined) delete hostEntity.pidns;
      index(hostEntity);
    }
    const firstAnswers = options.runtimes.map((runtime) => {
      let answered!: () => void;
      const firstAnswer = new Promise<void>((resolve) => {
        answered = resolve;
      });
      const timer = setTimeout(answered, options.startTimeoutMs ?? 10_000);
      timer.unref();
      const watch = runtime
        .watch(
          (change) => apply(runtime.name, change),
          (status) => {
            setStatus(runtime.name, status);
            // A runtime's first connected/disconnected comes after it listed what runs (or failed to).
            if (status.kind !== 'error') answered();
          },
          signal,
        )
        .catch((error: unknown) => setStatus(runtime.name, { kind: 'error', message: `stopped watching: ${toNomineError(error).message}` }))
        .finally(answered);
      watching = Promise.all([watching, watch]);
      return firstAnswer.finally(() => clearTimeout(timer));
    });
    await Promise.all(firstAnswers);
  }

  return {
    start,
    stopped: async () => {
      await watching;
    },
    entities: () => [hostEntity, ...[...live.values()].map((record) => record.merged)],
    host: () => hostEntity,
    byId,
    byContainerIdPrefix,
    byMountNamespace: (inode, at) => pick(byMntns.get(inode), at),
    byPidNamespace: (inode, at) => pick(byPidns.get(inode), at),
    byPod(namespace, pod, container) {
      const matches = [...live.values()]
        .map((record) => record.merged)
        .filter((entity) => entity.kubernetes?.namespace === namespace && entity.kubernetes.pod === pod && (container === undefined || entity.kubernetes.container === container));
      return matches.length === 1 ? matches[0] : undefined;
    },
    isStopped: (id) => !live.has(id) && id !== hostEntityId && byId(id) !== undefined,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    refresh,
    apply,
    status: () => [...states.values()],
  };
}
