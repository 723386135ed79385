/**
 * Attribution: gives every raw event its entity. An event is looked up by what it carries, in order: the entity id
 * a sensor already knew, the container id it reported (a 12-character prefix will do), its mount namespace, its
 * pid namespace (never decisive for the host, whose pid namespace `--pid host` containers share), its pod. An event
 * none of these resolves waits in a small bounded buffer while the process's cgroup is read: the container id in
 * it is resolved through the registry (asking the runtimes when the registry does not know it yet), and a cgroup
 * naming no container makes it a host event. Events still unresolved after the pending timeout are dropped and
 * counted. A pid is never trusted alone: a cgroup read is used for an event only when the process still has the
 * mount namespace the event carries, so a reused pid cannot lend its container to another process's event.
 */
import { hostEntityId, type Entity, type EntityChange } from './entity.ts';
import type { EntityRegistry } from './entity-registry.ts';
import type { RawEvent, RuntimeEvent } from './event.ts';
import { readNamespaceInodes, readProcessCgroup } from './namespace-inode.ts';

/** How long an event may wait for its entity. */
export const defaultPendingTimeoutMs = 2_000;
/** Events waiting for their entity at most; past it the oldest is dropped (and counted). */
export const defaultMaxPendingEvents = 1_024;
/** Namespace pairs remembered as belonging to an entity the registry does not index them under. */
export const maxLearnedNamespaces = 4_096;

/** What a process's cgroup file says about where it runs. */
export type CgroupOwner = { kind: 'container'; id: string } | { kind: 'host' };

export interface ProcessIdentity {
  cgroup?: string;
  mntns?: number;
}

export interface AttributionOptions {
  /** Receives the events that were pending once they resolve. */
  emit: (event: RuntimeEvent) => void;
  now?: () => number;
  pendingTimeoutMs?: number;
  maxPendingEvents?: number;
  /** How often pending events are checked for their timeout; 0 leaves it to the caller's `sweep()`. */
  sweepIntervalMs?: number;
  /** Reads a live process's cgroup file and mount namespace; /proc by default. */
  readProcess?: (pid: number) => Promise<ProcessIdentity | undefined>;
  procRoot?: string;
}

export interface AttributionStats {
  /** Events given an entity (at once or after waiting), of which for the host. */
  attributed: number;
  attributedHost: number;
  /** Events that had to wait, and those of them that found their entity later. */
  pending: number;
  resolvedLater: number;
  /** Events waiting now. */
  waiting: number;
  /** Dropped because no entity could be found before the timeout. */
  droppedUnattributed: number;
  /** Dropped because the pending buffer was full. */
  droppedOverflow: number;
  /** Container ids the runtimes were asked about. */
  refreshes: number;
}

export interface Attribution {
  /** The event with its entity, or 'pending' when it waits (it goes to `emit` once resolved, or is dropped). */
  attribute(raw: RawEvent): RuntimeEvent | 'pending';
  /** Resolves or drops the pending events whose time is up. */
  sweep(): void;
  stats(): AttributionStats;
  close(): void;
}

const containerSegment = /^(?:docker-|cri-containerd-|crio-|libpod-|containerd-)?([0-9a-f]{64})(?:\.scope)?$/;
/** Cgroup path parts that mean "inside a container runtime's tree", even when no container id could be read. */
const runtimeTree = /(?:^|\/)(?:docker|kubepods|containerd|crio|libpod|machine\.slice)/;

/**
 * Where /proc/PID/cgroup puts a process: the innermost container id on any of its lines (cgroup v1 has one line
 * per hierarchy, v2 the single `0::` line), in the layouts the cgroupfs and systemd drivers of Docker, containerd
 * and CRI-O use. A path in no runtime's tree is the host; undefined when the text says nothing usable.
 */
export function cgroupOwner(text: string): CgroupOwner | undefined {
  let sawPath = false;
  let inRuntimeTree = false;
  for (const line of text.split('\n')) {
    const first = line.indexOf(':');
    const second = first === -1 ? -1 : line.indexOf(':', first + 1);
    if (second === -1) continue;
    const path = line.slice(second + 1).trim();
    if (!path.startsWith('/')) continue;
    sawPath = true;
    const segments = path.split('/');
    for (let i = segments.length - 1; i >= 0; i -= 1) {
      const match = containerSegment.exec(segments[i]!);
      if (match) return { kind: 'container', id: match[1]! };
    }
    if (runtimeTree.test(path)) inRuntimeTree = true;
  }
  if (!sawPath || inRuntimeTree) return undefined;
  return { kind: 'host' };
}

interface PendingEvent {
  raw: RawEvent;
  deadline: number;
  extended: boolean;
}

interface ProcessLookup {
  state: 'reading' | 'read';
  owner?: CgroupOwner;
  /** The process's mount namespace when its cgroup was read. */
  mntns?: number;
  refreshing?: boolean;
}

function toRuntimeEvent(raw: RawEvent, entityId: string): RuntimeEvent {
  const { containerId: _containerId, pod: _pod, entityId: _entityId, ...rest } = raw;
  return { ...rest, entityId } as RuntimeEvent;
}

export function createAttribution(registry: EntityRegistry, options: AttributionOptions): Attribution {
  const now = options.now ?? Date.now;
  const timeoutMs = options.pendingTimeoutMs ?? defaultPendingTimeoutMs;
  const maxPending = options.maxPendingEvents ?? defaultMaxPendingEvents;
  const readProcess =
    options.readProcess ??
    (async (pid: number): Promise<ProcessIdentity | undefined> => {
      const [cgroup, namespaces] = await Promise.all([readProcessCgroup(pid, options.procRoot), readNamespaceInodes(pid, options.procRoot)]);
      if (cgroup === undefined) return undefined;
      return { cgroup, ...(namespaces?.mntns !== undefined ? { mntns: namespaces.mntns } : {}) };
    });
  const stats: AttributionStats = { attributed: 0, attributedHost: 0, pending: 0, resolvedLater: 0, waiting: 0, droppedUnattributed: 0, droppedOverflow: 0, refreshes: 0 };
  let nextSeq = 0;
  const pending = new Map<number, PendingEvent>(); // insertion order = arrival order
  const lookups = new Map<number, ProcessLookup>();
  /** `mntns:pidns` → entity id, learned from cgroups (host services with a private mount namespace, unshared containers). */
  const learned = new Map<string, string>();
  let closed = false;

  function learnedKey(raw: RawEvent): string | undefined {
    return raw.mntns !== undefined && raw.pidns !== undefined ? `${raw.mntns}:${raw.pidns}` : undefined;
  }

  function resolve(raw: RawEvent): Entity | undefined {
    if (raw.entityId) {
      const entity = registry.byId(raw.entityId);
      if (entity) return entity;
    }
    if (raw.containerId) {
      // Falco and Tetragon name the host `host`.
      const entity = raw.containerId === hostEntityId ? registry.host() : registry.byContainerIdPrefix(raw.containerId);
      if (entity) return entity;
    }
    if (raw.mntns !== undefined) {
      const entity = registry.byMountNamespace(raw.mntns, raw.at);
      if (entity) return entity;
    }
    if (raw.pidns !== undefined) {
      const entity = registry.byPidNamespace(raw.pidns, raw.at);
      if (entity && entity.id !== hostEntityId) return entity;
    }
    if (raw.pod) {
      const entity = registry.byPod(raw.pod.namespace, raw.pod.name, raw.pod.container);
      if (entity) return entity;
    }
    const key = learnedKey(raw);
    const learnedId = key === undefined ? undefined : learned.get(key);
    if (learnedId !== undefined) {
      const entity = registry.byId(learnedId);
      if (entity && !registry.isStopped(learnedId)) return entity;
      learned.delete(key!);
    }
    return undefined;
  }

  function count(entity: Entity): void {
    stats.attributed += 1;
    if (entity.id === hostEntityId) stats.attributedHost += 1;
  }

  function settle(seq: number, entry: PendingEvent, entity: Entity): void {
    pending.delete(seq);
    count(entity);
    stats.resolvedLater += 1;
    try {
      options.emit(toRuntimeEvent(entry.raw, entity.id));
    } catch {
      // The consumer's failure must not strand the other pending events.
    }
  }

  function releaseLookup(pid: number): void {
    for (const entry of pending.values()) if (entry.raw.pid === pid) return;
    lookups.delete(pid);
  }

  /** Whether the cgroup read for this pid may speak for `raw`: same process (same mount namespace) when both are known. */
  function lookupFits(lookup: ProcessLookup, raw: RawEvent): boolean {
    return raw.mntns === undefined || lookup.mntns === undefined || raw.mntns === lookup.mntns;
  }

  /** The entity the process's cgroup names, when it was read and may speak for this event. */
  function fromLookup(raw: RawEvent): Entity | undefined {
    const lookup = lookups.get(raw.pid);
    if (!lookup?.owner || !lookupFits(lookup, raw)) return undefined;
    const entity = lookup.owner.kind === 'host' ? registry.host() : registry.byContainerIdPrefix(lookup.owner.id);
    const key = learnedKey(raw);
    if (entity && key !== undefined && lookup.mntns !== undefined) remember(key, entity.id);
    return entity;
  }

  /** Retries every pending event (of one pid, or all): by its own keys first, then by its process's cgroup. */
  function retry(pid?: number): void {
    const touched = new Set<number>();
    for (const [seq, entry] of pending) {
      if (pid !== undefined && entry.raw.pid !== pid) continue;
      const entity = resolve(entry.raw) ?? fromLookup(entry.raw);
      if (entity) {
        settle(seq, entry, entity);
        touched.add(entry.raw.pid);
      }
    }
    for (const touchedPid of touched) releaseLookup(touchedPid);
  }

  function remember(key: string, entityId: string): void {
    learned.delete(key);
    learned.set(key, entityId);
    if (learned.size > maxLearnedNamespaces) learned.delete(learned.keys().next().value!);
  }

  function startLookup(pid: number): void {
    if (pid <= 0) return;
    const lookup: ProcessLookup = { state: 'reading' };
    lookups.set(pid, lookup);
    readProcess(pid)
      .catch(() => undefined)
      .then((identity) => {
        if (closed || lookups.get(pid) !== lookup) return;
        lookup.state = 'read';
        if (identity?.mntns !== undefined) lookup.mntns = identity.mntns;
        lookup.owner = identity?.cgroup === undefined ? undefined : cgroupOwner(identity.cgroup);
        if (lookup.owner?.kind === 'container' && !registry.byContainerIdPrefix(lookup.owner.id)) {
          lookup.refreshing = true;
          stats.refreshes += 1;
          const containerId = lookup.owner.id;
          registry
            .refresh(containerId)
            .catch(() => undefined)
            .then(() => {
              lookup.refreshing = false;
              if (!closed) retry(pid);
            });
        }
        retry(pid);
      });
  }

  function onChange(change: EntityChange): void {
    if (change.type === 'start') {
      // The registry indexes this mount namespace now; a remembered owner of a reused inode must not shadow it.
      const prefix = `${change.entity.mntns}:`;
      if (change.entity.mntns !== undefined) for (const key of learned.keys()) if (key.startsWith(prefix)) learned.delete(key);
      retry();
      return;
    }
    for (const [key, id] of learned) if (id === change.entityId) learned.delete(key);
  }
  const unsubscribe = registry.subscribe(onChange);

  function sweep(): void {
    const at = now();
    const touched = new Set<number>();
    for (const [seq, entry] of pending) {
      if (entry.deadline > at) continue;
      const entity = resolve(entry.raw);
      if (entity) {
        settle(seq, entry, entity);
      } else if (!entry.extended && lookups.get(entry.raw.pid)?.refreshing) {
        // The runtimes are being asked about its container: give the answer one more timeout to arrive.
        entry.extended = true;
        entry.deadline = at + timeoutMs;
        continue;
      } else {
        pending.delete(seq);
        stats.droppedUnattributed += 1;
      }
      touched.add(entry.raw.pid);
    }
    for (const pid of touched) releaseLookup(pid);
  }

  const timer = (options.sweepIntervalMs ?? 100) > 0 ? setInterval(sweep, options.sweepIntervalMs ?? 100) : undefined;
  timer?.unref();

  return {
    attribute(raw) {
      const entity = resolve(raw) ?? fromLookup(raw);
      if (entity) {
        count(entity);
        return toRuntimeEvent(raw, entity.id);
      }
      stats.pending += 1;
      if (pending.size >= maxPending) {
        const [oldest, entry] = pending.entries().next().value!;
        pending.delete(oldest);
        stats.droppedOverflow += 1;
        releaseLookup(entry.raw.pid);
      }
      pending.set(nextSeq, { raw, deadline: now() + timeoutMs, extended: false });
      nextSeq += 1;
      const lookup = lookups.get(raw.pid);
      // A read that named nothing usable, or another process's (its mount namespace differs): read again.
      if (!lookup || (lookup.state === 'read' && !lookup.refreshing && (!lookup.owner || !lookupFits(lookup, raw)))) startLookup(raw.pid);
      return 'pending';
    },
    sweep,
    stats: () => ({ ...stats, waiting: pending.size }),
    close() {
      closed = true;
      if (timer) clearInterval(timer);
      unsubscribe();
    },
  };
}
