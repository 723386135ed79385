/**
 * containerd runtime: containers as containerd's runtime v2 shims leave them on disk, so Kubernetes nodes running
 * containerd are covered without its gRPC API. Every task has a bundle directory
 * `<root>/io.containerd.runtime.v2.task/<namespace>/<id>/` holding the OCI runtime spec (`config.json`, whose
 * annotations carry the CRI pod metadata) and `init.pid`. The directories are polled, as inotify on /run misses
 * changes made from other mount namespaces. Bundles are outside data: a huge, malformed or mistyped file skips
 * that task with a problem reported once, never the scan. Pod sandbox (pause) containers are not entities.
 */
import { constants } from 'node:fs';
import { open, readdir, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { NomineError, toNomineError } from '../../core/errors.ts';
import type { Entity, EntityChange } from '../entity.ts';
import { readNamespaceInodes, type NamespaceInodes } from '../namespace-inode.ts';
import { criAnnotations, isPodSandbox, kubernetesMetadataFromAnnotations } from './kubernetes-metadata.ts';
import { reconcileEntities, type ContainerRuntime, type RuntimeStatus } from './runtime.ts';

/** containerd's own state directory, and the one Docker's managed containerd uses (namespace `moby`). */
export const defaultContainerdRoots = ['/run/containerd', '/var/run/docker/containerd/daemon'];
export const taskDirectoryName = 'io.containerd.runtime.v2.task';
/** A runtime spec is ~10 KiB; one far larger is not one we should hold in memory. */
export const maxTaskConfigBytes = 4 * 1024 * 1024;
/** Bundle directories looked at per namespace in one scan. */
export const maxTasksPerNamespace = 10_000;
const maxInitPidBytes = 64;
/** Linux caps pid_max at 2^22. */
const maxPid = 4_194_304;
/** containerd's identifier rule (pkg/identifiers). */
const validId = /^[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*$/;
const maxIdLength = 76;

export interface ContainerdRuntimeOptions {
  /** State roots to search; default defaultContainerdRoots. */
  roots?: string[];
  /** Only these containerd namespaces (default: all). */
  namespaces?: string[];
  pollIntervalMs?: number;
  maxConfigBytes?: number;
  procRoot?: string;
  /** A task skipped for bad input (reported once per version of its files). */
  onProblem?: (message: string) => void;
  now?: () => number;
}

export interface ContainerdRuntime extends ContainerRuntime {
  readonly name: 'containerd';
}

export interface TaskFiles {
  id: string;
  namespace: string;
  /** The parsed config.json. */
  config: unknown;
  pid: number;
  /** When init.pid was written: the task's start. */
  startedAt?: number;
  namespaces?: NamespaceInodes;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The pid in an init.pid file; undefined for anything but a decimal pid. */
export function parseInitPid(text: string): number | undefined {
  const trimmed = text.trim();
  if (!/^\d{1,7}$/.test(trimmed)) return undefined;
  const pid = Number(trimmed);
  return pid > 0 && pid <= maxPid ? pid : undefined;
}

/**
 * The entity of one task; `{ skip }` for a sandbox, `{ problem }` for a spec whose shape is wrong. Only the fields
 * nomine reads are checked, so specs from newer runtimes with more fields still pass.
 */
export function entityFromTask(task: TaskFiles): { entity: Entity } | { skip: 'sandbox' } | { problem: string } {
  const { config } = task;
  if (!isRecord(config)) return { problem: 'config.json is not a JSON object' };
  if (typeof config.ociVersion !== 'string') return { problem: 'config.json has no ociVersion string: not an OCI runtime spec' };
  const annotations: Record<string, string> = {};
  if (config.annotations !== undefined) {
    if (!isRecord(config.annotations)) return { problem: 'config.json annotations is not an object' };
    for (const [key, value] of Object.entries(config.annotations)) {
      if (typeof value !== 'string') return { problem: `config.json annotation ${JSON.stringify(key.slice(0, 100))} is not a string` };
      annotations[key] = value;
    }
  }
  if (config.process !== undefined) {
    if (!isRecord(config.process)) return { problem: 'config.json process is not an object' };
    const args = config.process.args;
    if (args !== undefined && !(Array.isArray(args) && args.every((arg) => typeof arg === 'string'))) return { problem: 'config.json process.args is not a list of strings' };
  }
  if (isPodSandbox(annotations)) return { skip: 'sandbox' };
  const kubernetes = kubernetesMetadataFromAnnotations(annotations);
  const image = annotations[criAnnotations.imageName];
  return {
    entity: {
      id: task.id,
      name: annotations[criAnnotations.containerName] || task.id.slice(0, 12),
      runtime: 'containerd',
      ...(image ? { image } : {}),
      ...(task.startedAt !== undefined ? { startedAt: task.startedAt } : {}),
      pid: task.pid,
      ...(task.namespaces?.mntns !== undefined ? { mntns: task.namespaces.mntns } : {}),
      ...(task.namespaces?.pidns !== undefined ? { pidns: task.namespaces.pidns } : {}),
      ...(kubernetes ? { kubernetes } : {}),
      // The spec has no labels; its annotations are what the runtime recorded about the container.
      labels: annotations,
      namespace: task.namespace,
    },
  };
}

/**
 * A regular file's bytes, at most `maxBytes` (more is a problem). Opened without following a final symlink and
 * without blocking, so a FIFO or a link to /dev/zero planted in a bundle cannot hang or flood the scan.
 */
async function readSmallFile(path: string, maxBytes: number): Promise<Buffer | { problem: string }> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const info = await handle.stat();
    if (!info.isFile()) return { problem: `${path} is not a regular file` };
    if (info.size > maxBytes) return { problem: `${path} is ${info.size} bytes, more than the ${maxBytes} accepted` };
    const buffer = Buffer.alloc(maxBytes + 1);
    let length = 0;
    while (length <= maxBytes) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > maxBytes) return { problem: `${path} grew beyond the ${maxBytes} bytes accepted` };
    return buffer.subarray(0, length);
  } finally {
    await handle.close();
  }
}

interface CachedTask {
  /** Identity of the files it was parsed from (inode, size, mtime of config.json and init.pid). */
  version: string;
  outcome: { entity: Entity } | { skip: string } | { problem: string };
}

export function createContainerdRuntime(options: ContainerdRuntimeOptions = {}): ContainerdRuntime {
  const roots = options.roots ?? defaultContainerdRoots;
  const pollIntervalMs = options.pollIntervalMs ?? 1_000;
  const maxConfigBytes = options.maxConfigBytes ?? maxTaskConfigBytes;
  const wantedNamespaces = options.namespaces ? new Set(options.namespaces) : undefined;
  const now = options.now ?? Date.now;
  const cache = new Map<string, CachedTask>();
  const part = `containerd state ${roots.join(', ')}`;

  /** Parses one bundle, or answers why it is skipped; undefined for a task that is not running yet (or any more). */
  async function readTask(dir: string, id: string, namespace: string): Promise<CachedTask | undefined> {
    const configPath = join(dir, 'config.json');
    const pidPath = join(dir, 'init.pid');
    let configInfo, pidInfo;
    try {
      [configInfo, pidInfo] = await Promise.all([stat(configPath), stat(pidPath)]);
    } catch {
      return undefined; // created but not started, or being deleted
    }
    const version = `${configInfo.ino}:${configInfo.size}:${configInfo.mtimeMs}/${pidInfo.ino}:${pidInfo.size}:${pidInfo.mtimeMs}`;
    const cached = cache.get(dir);
    if (cached?.version === version) return cached;
    let outcome: CachedTask['outcome'] | undefined;
    try {
      outcome = await parseTask(configPath, pidPath, id, namespace, pidInfo.mtimeMs);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      outcome = { problem: toNomineError(error).message };
    }
    if (!outcome) return undefined;
    const task = { version, outcome };
    cache.set(dir, task);
    return task;
  }

  async function parseTask(configPath: string, pidPath: string, id: string, namespace: string, pidWrittenAt: number): Promise<CachedTask['outcome'] | undefined> {
    const pidBytes = await readSmallFile(pidPath, maxInitPidBytes);
    if (!Buffer.isBuffer(pidBytes)) return pidBytes;
    if (pidBytes.toString('utf8').trim() === '') return undefined; // the shim is still writing it
    const pid = parseInitPid(pidBytes.toString('utf8'));
    if (pid === undefined) return { problem: `init.pid does not hold a pid: ${JSON.stringify(pidBytes.toString('utf8').slice(0, 40))}` };
    const configBytes = await readSmallFile(configPath, maxConfigBytes);
    if (!Buffer.isBuffer(configBytes)) return configBytes;
    let config: unknown;
    try {
      config = JSON.parse(configBytes.toString('utf8'));
    } catch (error) {
      return { problem: `config.json is not JSON: ${(error as Error).message}` };
    }
    return entityFromTask({ id, namespace, config, pid, startedAt: Math.floor(pidWrittenAt) });
  }

  async function listDirectory(path: string): Promise<string[]> {
    const entries = await readdir(path, { withFileTypes: true });
    return entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name);
  }

  async function scan(report: (message: string) => void, only?: string): Promise<Entity[]> {
    const seenRoots = new Set<string>();
    let reachable = 0;
    let lastError: unknown;
    const entities: Entity[] = [];
    const liveDirs = new Set<string>();
    for (const root of roots) {
      const tasks = join(root, taskDirectoryName);
      let real: string;
      try {
        real = await realpath(tasks);
      } catch (error) {
        lastError = error;
        continue;
      }
      if (seenRoots.has(real)) continue; // /var/run is /run on most systems
      seenRoots.add(real);
      let namespaces: string[];
      try {
        namespaces = await listDirectory(real);
      } catch (error) {
        lastError = error;
        continue;
      }
      reachable += 1;
      for (const namespace of namespaces) {
        if (wantedNamespaces && !wantedNamespaces.has(namespace)) continue;
        let ids: string[];
        try {
          ids = await listDirectory(join(real, namespace));
        } catch {
          continue; // removed while we looked
        }
        if (ids.length > maxTasksPerNamespace) {
          report(`${join(real, namespace)} holds ${ids.length} task directories; only the first ${maxTasksPerNamespace} are read`);
          ids = ids.slice(0, maxTasksPerNamespace);
        }
        for (const id of ids) {
          if (only !== undefined && !id.startsWith(only)) continue;
          const dir = join(real, namespace, id);
          liveDirs.add(dir);
          if (id.length > maxIdLength || !validId.test(id)) {
            if (!cache.has(dir)) {
              cache.set(dir, { version: 'invalid-id', outcome: { problem: 'invalid id' } });
              report(`skipped ${dir}: not a valid containerd id`);
            }
            continue;
          }
          const before = cache.get(dir);
          const task = await readTask(dir, id, namespace);
          if (!task) continue;
          const { outcome } = task;
          if ('problem' in outcome) {
            if (before !== task) report(`skipped task ${namespace}/${id}: ${outcome.problem}`);
            continue;
          }
          if (!('entity' in outcome)) continue;
          // Namespaces are read on every scan: a bundle left behind by a crashed shim has no process any more.
          const namespaceInodes = await readNamespaceInodes(outcome.entity.pid!, options.procRoot);
          if (!namespaceInodes) continue;
          entities.push({ ...outcome.entity, ...namespaceInodes });
        }
      }
    }
    if (only === undefined) for (const dir of cache.keys()) if (!liveDirs.has(dir)) cache.delete(dir);
    if (reachable === 0) {
      throw new NomineError('unreachable', `no containerd task state found under ${roots.join(', ')}${lastError ? `: ${toNomineError(lastError).message}` : ''}`, part);
    }
    return entities;
  }

  const reportProblem = (message: string) => options.onProblem?.(message);

  async function list(signal?: AbortSignal): Promise<Entity[]> {
    signal?.throwIfAborted();
    return scan(reportProblem);
  }

  async function inspect(id: string, signal?: AbortSignal): Promise<Entity | undefined> {
    signal?.throwIfAborted();
    if (id.length < 12) return undefined; // a shorter prefix could name several tasks
    const found = await scan(reportProblem, id).catch(() => []);
    return found.length === 1 ? found[0] : undefined;
  }

  async function watch(onChange: (change: EntityChange) => void, onStatus: (status: RuntimeStatus) => void, signal: AbortSignal): Promise<void> {
    const known = new Map<string, Entity>();
    let state: RuntimeStatus['kind'] | undefined;
    const report = (message: string) => {
      reportProblem(message);
      onStatus({ kind: 'error', message });
    };
    while (!signal.aborted) {
      try {
        const current = await scan(report);
        if (state !== 'connected') onStatus({ kind: 'connected', message: `polling ${part} every ${pollIntervalMs} ms` });
        state = 'connected';
        reconcileEntities(known, current, onChange, now());
      } catch (error) {
        if (signal.aborted) break;
        if (state !== 'disconnected') onStatus({ kind: 'disconnected', message: toNomineError(error).message });
        state = 'disconnected';
      }
      await sleep(pollIntervalMs, undefined, { signal }).catch(() => undefined);
    }
  }

  return { name: 'containerd', list, watch, inspect };
}
