/**
 * Container runtime port: one source of entities (the Docker Engine, containerd's task state). `list` answers what
 * runs now; `watch` follows starts and stops until the signal aborts, reconnecting by itself when its source goes
 * away and saying so through `onStatus`. After every (re)connection it re-lists and reports the differences, so
 * nothing that happened while it was disconnected is missed.
 */
import type { Entity, EntityChange } from '../entity.ts';

export type RuntimeName = 'docker' | 'containerd';

export interface RuntimeStatus {
  /** connected: following changes; disconnected: the source is gone, retrying; error: something was skipped. */
  kind: 'connected' | 'disconnected' | 'error';
  message: string;
}

export interface ContainerRuntime {
  readonly name: RuntimeName;
  /** Entities running now. Rejects when the source cannot be reached at all. */
  list(signal?: AbortSignal): Promise<Entity[]>;
  /** Follows changes until `signal` aborts; resolves then. Never rejects for a lost source: it retries. */
  watch(onChange: (change: EntityChange) => void, onStatus: (status: RuntimeStatus) => void, signal: AbortSignal): Promise<void>;
  /** One container by id (or unique prefix), for a container events name before its start was seen. */
  inspect?(id: string, signal?: AbortSignal): Promise<Entity | undefined>;
}

/** Whether two records of one container describe the same run (a restart keeps the id, not the pid). */
export function sameRun(a: Entity, b: Entity): boolean {
  return a.pid === b.pid && a.startedAt === b.startedAt && a.mntns === b.mntns;
}

/** Brings `known` up to what runs now, reporting a start for every new or restarted entity and a stop for every one gone. */
export function reconcileEntities(known: Map<string, Entity>, current: readonly Entity[], onChange: (change: EntityChange) => void, at: number): void {
  const seen = new Set<string>();
  for (const entity of current) {
    seen.add(entity.id);
    const before = known.get(entity.id);
    if (before && sameRun(before, entity)) continue;
    known.set(entity.id, entity);
    onChange({ type: 'start', entity });
  }
  for (const id of [...known.keys()]) {
    if (seen.has(id)) continue;
    known.delete(id);
    onChange({ type: 'stop', entityId: id, at });
  }
}
