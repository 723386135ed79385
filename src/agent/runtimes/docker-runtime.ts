/**
 * Docker runtime: the containers of a Docker Engine as entities. Lists running containers and inspects each (image
 * id, start time, init pid, labels), reads the init process's namespace inodes from /proc, and follows
 * `GET /events` (container start/die/destroy, one JSON object a line). When the engine goes away (the stream ends,
 * the socket refuses) it says `disconnected`, retries with backoff, and on reconnecting re-lists and reports what
 * changed meanwhile. A container that dies while it is being inspected is skipped, never an error.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Readable } from 'node:stream';
import { NomineError, isNomineError, toNomineError } from '../../core/errors.ts';
import { createDockerClient, type DockerClient } from '../../platform/docker-client.ts';
import type { Entity, EntityChange } from '../entity.ts';
import { readNamespaceInodes, type NamespaceInodes } from '../namespace-inode.ts';
import { isPodSandbox, kubernetesMetadataFromLabels } from './kubernetes-metadata.ts';
import { reconcileEntities, sameRun, type ContainerRuntime, type RuntimeStatus } from './runtime.ts';

export interface DockerRuntimeOptions {
  /** Engine socket; DOCKER_HOST=unix://… or /var/run/docker.sock when absent. */
  socketPath?: string;
  /** Client for list and inspect (one is made from socketPath when absent). */
  client?: DockerClient;
  /** Client for the events stream; it must not time out an idle body (one is made when absent). */
  eventsClient?: DockerClient;
  procRoot?: string;
  /** First and longest wait between reconnection attempts. */
  retryInitialMs?: number;
  retryMaxMs?: number;
  now?: () => number;
}

export interface DockerRuntime extends ContainerRuntime {
  readonly name: 'docker';
  close(): Promise<void>;
}

/** One event line is a few hundred bytes (a container's labels travel in it); longer lines are skipped. */
export const maxDockerEventLineBytes = 1024 * 1024;
/** Containers inspected at once while listing. */
const inspectConcurrency = 8;
const composeServiceLabel = 'com.docker.compose.service';
const stopActions = new Set(['die', 'destroy']);
const connectionErrors = new Set(['unreachable', 'timeout', 'internal']);

export interface DockerContainerEvent {
  action: string;
  id: string;
  /** Milliseconds since the epoch, when the engine said. */
  at?: number;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringOf(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

function stringMap(value: unknown): Record<string, string> {
  const map: Record<string, string> = {};
  if (!isRecord(value)) return map;
  for (const [key, item] of Object.entries(value)) if (typeof item === 'string') map[key] = item;
  return map;
}

/** Docker writes the zero time (`0001-01-01T00:00:00Z`) for a container that never started. */
function timeOf(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const at = Date.parse(value);
  return Number.isFinite(at) && at > 0 ? at : undefined;
}

/** The entity of a `/containers/{id}/json` answer; undefined when it is not a running workload container. */
export function entityFromDockerInspect(inspect: unknown, namespaces?: NamespaceInodes): Entity | undefined {
  if (!isRecord(inspect)) return undefined;
  const id = stringOf(inspect.Id);
  if (!id || id.length > 128) return undefined;
  const state = isRecord(inspect.State) ? inspect.State : {};
  const pid = state.Pid;
  if (state.Running !== true || typeof pid !== 'number' || !Number.isSafeInteger(pid) || pid <= 0) return undefined;
  const config = isRecord(inspect.Config) ? inspect.Config : {};
  const labels = stringMap(config.Labels);
  if (isPodSandbox(labels)) return undefined;
  const name = stringOf(inspect.Name)?.replace(/^\//, '') || id.slice(0, 12);
  const image = stringOf(config.Image);
  const imageDigest = stringOf(inspect.Image);
  const startedAt = timeOf(state.StartedAt);
  const kubernetes = kubernetesMetadataFromLabels(labels);
  const composeService = labels[composeServiceLabel];
  return {
    id,
    name,
    runtime: 'docker',
    ...(image ? { image } : {}),
    ...(imageDigest ? { imageDigest } : {}),
    ...(startedAt !== undefined ? { startedAt } : {}),
    pid,
    ...(namespaces?.mntns !== undefined ? { mntns: namespaces.mntns } : {}),
    ...(namespaces?.pidns !== undefined ? { pidns: namespaces.pidns } : {}),
    ...(kubernetes ? { kubernetes } : {}),
    ...(composeService ? { composeService } : {}),
    labels,
  };
}

/** One line of the events stream; undefined for garbage and for events that are not about a container. */
export function parseDockerEvent(line: string): DockerContainerEvent | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (!isRecord(value)) return undefined;
  const type = value.Type ?? 'container'; // engines before API 1.22 sent no Type
  if (type !== 'container') return undefined;
  const action = stringOf(value.Action) ?? stringOf(value.status);
  const actor = isRecord(value.Actor) ? value.Actor : {};
  const id = stringOf(actor.ID) ?? stringOf(value.id);
  if (!action || !id) return undefined;
  const nanos = value.timeNano;
  const seconds = value.time;
  const at =
    typeof nanos === 'number' && Number.isFinite(nanos) && nanos > 0 ? Math.floor(nanos / 1e6) : typeof seconds === 'number' && Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : undefined;
  return { action, id, ...(at !== undefined ? { at } : {}) };
}

/** Lines of a byte stream, each at most `maxBytes`; a longer line is skipped whole and counted by `onOversized`. */
export async function* splitLines(body: AsyncIterable<unknown>, maxBytes: number, onOversized: () => void): AsyncGenerator<string> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let skipping = false;
  for await (const chunk of body) {
    let bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    for (let newline = bytes.indexOf(10); newline !== -1; newline = bytes.indexOf(10)) {
      const head = bytes.subarray(0, newline);
      bytes = bytes.subarray(newline + 1);
      if (skipping || pendingBytes + head.length > maxBytes) {
        if (!skipping) onOversized();
        skipping = false;
      } else {
        const line = Buffer.concat([...pending, head]).toString('utf8').trim();
        if (line) yield line;
      }
      pending = [];
      pendingBytes = 0;
    }
    if (skipping) continue;
    if (pendingBytes + bytes.length > maxBytes) {
      onOversized();
      skipping = true;
      pending = [];
      pendingBytes = 0;
    } else if (bytes.length > 0) {
      pending.push(bytes);
      pendingBytes += bytes.length;
    }
  }
  const rest = Buffer.concat(pending).toString('utf8').trim();
  if (!skipping && rest) yield rest;
}

export function createDockerRuntime(options: DockerRuntimeOptions = {}): DockerRuntime {
  const ownClient = options.client ? undefined : createDockerClient({ socketPath: options.socketPath });
  const client = options.client ?? ownClient!;
  // An events stream is silent for as long as nothing happens: no idle timeout on its body.
  const ownEventsClient = options.eventsClient ? undefined : createDockerClient({ socketPath: options.socketPath ?? client.socketPath, idleTimeoutMs: 0 });
  const eventsClient = options.eventsClient ?? ownEventsClient!;
  const retryInitialMs = options.retryInitialMs ?? 250;
  const retryMaxMs = options.retryMaxMs ?? 5_000;
  const now = options.now ?? Date.now;
  const enginePart = `docker engine unix://${client.socketPath}`;

  async function inspect(id: string, signal?: AbortSignal): Promise<Entity | undefined> {
    let answer: unknown;
    try {
      answer = await client.json<unknown>({ path: `/containers/${encodeURIComponent(id)}/json`, part: `container ${id.slice(0, 12)}`, signal });
    } catch (error) {
      if (isNomineError(error) && error.code === 'not-found') return undefined; // removed since it was listed
      throw error;
    }
    const pid = isRecord(answer) && isRecord(answer.State) ? answer.State.Pid : undefined;
    const namespaces = typeof pid === 'number' ? await readNamespaceInodes(pid, options.procRoot) : undefined;
    return entityFromDockerInspect(answer, namespaces);
  }

  async function list(signal?: AbortSignal): Promise<Entity[]> {
    const answer = await client.json<unknown>({ path: '/containers/json', part: enginePart, signal });
    if (!Array.isArray(answer)) throw new NomineError('invalid-input', 'the container list is not a JSON array', enginePart);
    const ids = answer.flatMap((item) => (isRecord(item) && typeof item.Id === 'string' && item.Id ? [item.Id] : []));
    const entities: Entity[] = [];
    for (let start = 0; start < ids.length; start += inspectConcurrency) {
      const batch = await Promise.all(
        ids.slice(start, start + inspectConcurrency).map((id) =>
          inspect(id, signal).catch((error: unknown) => {
            // One container the engine refuses to describe (an answer, not a lost connection) must not hide the
            // others; a lost engine must fail the list, or its containers would be reported stopped.
            if (!signal?.aborted && isNomineError(error) && !connectionErrors.has(error.code)) return undefined;
            throw error;
          }),
        ),
      );
      for (const entity of batch) if (entity) entities.push(entity);
    }
    return entities;
  }

  async function watch(onChange: (change: EntityChange) => void, onStatus: (status: RuntimeStatus) => void, signal: AbortSignal): Promise<void> {
    const known = new Map<string, Entity>();
    let state: RuntimeStatus['kind'] | undefined;
    let delay = retryInitialMs;

    const reconcile = (current: Entity[]) => reconcileEntities(known, current, onChange, now());

    const handle = async (event: DockerContainerEvent) => {
      if (event.action === 'start') {
        let entity: Entity | undefined;
        try {
          entity = await inspect(event.id, signal);
        } catch (error) {
          if (signal.aborted) return;
          onStatus({ kind: 'error', message: `cannot inspect container ${event.id.slice(0, 12)} after its start: ${toNomineError(error).message}` });
          return;
        }
        if (!entity) return; // died already; its die event follows
        const before = known.get(entity.id);
        if (before && sameRun(before, entity)) return;
        known.set(entity.id, entity);
        onChange({ type: 'start', entity });
      } else if (stopActions.has(event.action) && known.delete(event.id)) {
        onChange({ type: 'stop', entityId: event.id, at: event.at ?? now() });
      }
    };

    while (!signal.aborted) {
      let body: Readable | undefined;
      try {
        const response = await eventsClient.request({
          path: '/events',
          query: { filters: JSON.stringify({ type: ['container'], event: ['start', 'die', 'destroy'] }) },
          part: enginePart,
          signal,
        });
        body = response.body;
        // The stream is open before the list is taken, so nothing between the two is lost; duplicates are dropped.
        reconcile(await list(signal));
        if (state !== 'connected') onStatus({ kind: 'connected', message: `following container events of ${enginePart}` });
        state = 'connected';
        delay = retryInitialMs;
        const lines = splitLines(body, maxDockerEventLineBytes, () =>
          onStatus({ kind: 'error', message: `skipped a Docker event line longer than ${maxDockerEventLineBytes} bytes` }),
        );
        for await (const line of lines) {
          const event = parseDockerEvent(line);
          if (event) await handle(event);
        }
        throw new NomineError('unreachable', 'the Docker events stream ended (the engine stopped?)', enginePart);
      } catch (error) {
        body?.destroy();
        if (signal.aborted) break;
        if (state !== 'disconnected') onStatus({ kind: 'disconnected', message: `${toNomineError(error).message}; retrying` });
        state = 'disconnected';
        await sleep(delay, undefined, { signal }).catch(() => undefined);
        delay = Math.min(delay * 2, retryMaxMs);
      }
    }
  }

  return {
    name: 'docker',
    list,
    watch,
    inspect,
    async close() {
      await Promise.all([ownClient?.close(), ownEventsClient?.close()]);
    },
  };
}
