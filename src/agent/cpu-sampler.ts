/**
 * CPU sampling: every interval, one `cpu-sample` event per entity saying how many cores it used on average.
 * A container's usage comes from its cgroup's accounting when the cgroup of its init process is found (cgroup v1
 * cpuacct.usage in nanoseconds, cgroup v2 cpu.stat usage_usec), which counts every process it ever ran, however
 * short. Otherwise it is the sum of utime + stime of the processes in its mount namespace, which misses processes
 * that ended within the interval. The host entity is the whole machine's busy time (/proc/stat) minus the entities
 * measured alongside it, so a container's CPU is not counted twice.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { setImmediate as yieldToEventLoop, setTimeout as sleep } from 'node:timers/promises';
import { hostEntityId } from './entity.ts';
import type { RawEvent, SensorName } from './event.ts';
import {
  parseMountinfo,
  parseProcCgroup,
  parseProcStat,
  parseStatBusyTicks,
  type CgroupMembership,
  type MountEntry,
} from './sensors/procfs-parse.ts';

export const defaultCpuSampleIntervalMs = 5_000;
/** Linux exports process and /proc/stat times in USER_HZ, 100 on every architecture the agent runs on. */
const nanosecondsPerTick = 10_000_000;
/** Processes read between two yields to the event loop while summing by mount namespace. */
const processesPerSlice = 256;

export interface CpuSampledEntity {
  id: string;
  /** Init process on the host; its cgroup and mount namespace are the entity's. */
  pid?: number;
  mntns?: number;
}

export type CpuSource = 'auto' | 'procfs';

export interface CpuSamplerOptions {
  /** The entities to sample, asked anew every interval. */
  entities: () => Iterable<CpuSampledEntity>;
  intervalMs?: number;
  /** 'auto': cgroup accounting where found, else /proc sums; 'procfs': always /proc sums. */
  source?: CpuSource;
  procRoot?: string;
  /** The sensor named in the events (the sampler runs beside whichever sensor the agent chose). */
  sensor?: SensorName;
  now?: () => number;
  /** Monotonic milliseconds for the wall interval. */
  monotonicNow?: () => number;
}

export interface CpuSampler {
  /** Takes one sample; the first sample of an entity only sets its baseline and yields no event for it. */
  sample(): Promise<RawEvent[]>;
  /** Samples every interval into `sink` until the signal aborts. */
  run(sink: (event: RawEvent) => void, signal: AbortSignal): Promise<void>;
}

/** cgroup v1 cpuacct.usage: total CPU time in nanoseconds. */
export function parseCpuacctUsage(text: string): number | undefined {
  const match = /^(\d{1,20})\s*$/.exec(text);
  const value = match ? Number(match[1]) : undefined;
  return value !== undefined && Number.isSafeInteger(value) ? value : undefined;
}

/** cgroup v2 cpu.stat: `usage_usec N` among other lines; answered in nanoseconds. */
export function parseCpuStatUsage(text: string): number | undefined {
  const match = /^usage_usec (\d{1,20})$/m.exec(text);
  const value = match ? Number(match[1]) * 1000 : undefined;
  return value !== undefined && Number.isSafeInteger(value) ? value : undefined;
}

export interface CgroupUsageFile {
  path: string;
  format: 'cpuacct.usage' | 'cpu.stat';
}

/**
 * The accounting file of a process's cgroup: cgroup v1's cpuacct controller when mounted (alone or as
 * `cpu,cpuacct`), else the cgroup v2 hierarchy. A process in the root cgroup has none: the root counts the whole
 * machine. Paths in /proc/PID/cgroup are relative to the reader's cgroup namespace; a mount whose root is a subtree
 * (a namespaced agent) is matched by that prefix.
 */
export function cgroupUsageFile(memberships: CgroupMembership[], mounts: MountEntry[]): CgroupUsageFile | undefined {
  const join = (mount: MountEntry, path: string): string | undefined => {
    const root = mount.root === '/' ? '' : mount.root;
    if (root && path !== root && !path.startsWith(`${root}/`)) return undefined;
    const relative = path.slice(root.length);
    if (relative === '' || relative === '/' || relative.split('/').includes('..')) return undefined;
    return `${mount.mountPoint}${relative}`;
  };
  const v1 = memberships.find((m) => m.hierarchy !== 0 && m.controllers.includes('cpuacct'));
  if (v1) {
    for (const mount of mounts) {
      if (mount.fsType !== 'cgroup' || !mount.superOptions.includes('cpuacct')) continue;
      const dir = join(mount, v1.path);
      if (dir) return { path: `${dir}/cpuacct.usage`, format: 'cpuacct.usage' };
    }
  }
  const v2 = memberships.find((m) => m.hierarchy === 0 && m.controllers.length === 0);
  if (v2) {
    for (const mount of mounts) {
      if (mount.fsType !== 'cgroup2') continue;
      const dir = join(mount, v2.path);
      if (dir) return { path: `${dir}/cpu.stat`, format: 'cpu.stat' };
    }
  }
  return undefined;
}

/** Cores used on average: CPU nanoseconds over wall milliseconds. Undefined when a counter went back (a new cgroup). */
export function coresBetween(cpuNsBefore: number, cpuNsAfter: number, wallMs: number): number | undefined {
  if (wallMs <= 0 || cpuNsAfter < cpuNsBefore) return undefined;
  return Math.round(((cpuNsAfter - cpuNsBefore) / (wallMs * 1e6)) * 1000) / 1000;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function mntnsOf(procRoot: string, pid: number): number | undefined {
  try {
    const match = /^mnt:\[(\d{1,20})\]$/.exec(readlinkSync(`${procRoot}/${pid}/ns/mnt`));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** What one entity was measured at, kept until the next sample. */
type Reading =
  | { method: 'cgroup'; file: string; cpuNs: number }
  | { method: 'procfs'; mntns: number; /** pid:starttime → CPU ticks */ ticks: Map<string, number>; cpuNs: number };

interface Baseline {
  wallMs: number;
  reading: Reading;
}

export function createCpuSampler(options: CpuSamplerOptions): CpuSampler {
  const procRoot = options.procRoot ?? '/proc';
  const intervalMs = options.intervalMs ?? defaultCpuSampleIntervalMs;
  const source = options.source ?? 'auto';
  const sensor = options.sensor ?? 'procfs';
  const now = options.now ?? Date.now;
  const monotonicNow = options.monotonicNow ?? (() => performance.now());
  const baselines = new Map<string, Baseline>();
  let hostBaseline: { wallMs: number; busyNs: number } | undefined;
  let mounts: MountEntry[] | undefined;
  let lastUptimeTicks: number | undefined;

  function readCgroup(pid: number): Reading | undefined {
    mounts ??= parseMountinfo(readText(`${procRoot}/self/mountinfo`) ?? '');
    const file = cgroupUsageFile(parseProcCgroup(readText(`${procRoot}/${pid}/cgroup`) ?? ''), mounts);
    if (!file) return undefined;
    const text = readText(file.path);
    const cpuNs = text === undefined ? undefined : file.format === 'cpuacct.usage' ? parseCpuacctUsage(text) : parseCpuStatUsage(text);
    return cpuNs === undefined ? undefined : { method: 'cgroup', file: file.path, cpuNs };
  }

  /** CPU ticks of every process, by mount namespace, for the namespaces asked for. */
  async function ticksByMntns(wanted: Set<number>): Promise<Map<number, { ticks: Map<string, number>; starttimes: Map<string, number> }>> {
    const found = new Map<number, { ticks: Map<string, number>; starttimes: Map<string, number> }>();
    let names: string[];
    try {
      names = readdirSync(procRoot);
    } catch {
      return found;
    }
    let sliced = 0;
    for (const name of names) {
      if (!/^\d+$/.test(name)) continue;
      if (++sliced % processesPerSlice === 0) await yieldToEventLoop();
      const pid = Number(name);
      const mntns = mntnsOf(procRoot, pid);
      if (mntns === undefined || !wanted.has(mntns)) continue;
      const stat = parseProcStat(readText(`${procRoot}/${pid}/stat`) ?? '');
      if (!stat) continue;
      const entry = found.get(mntns) ?? { ticks: new Map(), starttimes: new Map() };
      found.set(mntns, entry);
      const key = `${pid}:${stat.starttime}`;
      entry.ticks.set(key, stat.utime + stat.stime);
      entry.starttimes.set(key, stat.starttime);
    }
    return found;
  }

  /** Uptime in ticks, to tell a process that started within the interval from one that was there but unseen. */
  function uptimeTicks(): number | undefined {
    const match = /^(\d+(?:\.\d+)?)\s/.exec(readText(`${procRoot}/uptime`) ?? '');
    return match ? Math.floor(Number(match[1]) * 100) : undefined;
  }

  async function sample(): Promise<RawEvent[]> {
    const wallMs = monotonicNow();
    const at = now();
    const entities = [...options.entities()];
    const readings = new Map<string, Reading>();
    const needProcfs = new Map<string, number>(); // entity id → mntns

    for (const entity of entities) {
      if (entity.id === hostEntityId) continue;
      const cgroup = source === 'auto' && entity.pid !== undefined ? readCgroup(entity.pid) : undefined;
      if (cgroup) {
        readings.set(entity.id, cgroup);
        continue;
      }
      const mntns = entity.mntns ?? (entity.pid !== undefined ? mntnsOf(procRoot, entity.pid) : undefined);
      if (mntns !== undefined) needProcfs.set(entity.id, mntns);
    }
    if (needProcfs.size > 0) {
      const previousUptime = lastUptimeTicks;
      const byMntns = await ticksByMntns(new Set(needProcfs.values()));
      for (const [id, mntns] of needProcfs) {
        const current = byMntns.get(mntns);
        if (!current) continue;
        const before = baselines.get(id)?.reading;
        const previous = before?.method === 'procfs' && before.mntns === mntns ? before : undefined;
        // CPU used since the last sample: per process, from its last reading, or all of it when it started since.
        let cpuNs = previous?.cpuNs ?? 0;
        for (const [key, ticks] of current.ticks) {
          const last = previous?.ticks.get(key);
          const startedSince = previousUptime !== undefined && (current.starttimes.get(key) ?? 0) >= previousUptime;
          const delta = last !== undefined ? ticks - last : startedSince ? ticks : 0;
          cpuNs += Math.max(0, delta) * nanosecondsPerTick;
        }
        readings.set(id, { method: 'procfs', mntns, ticks: current.ticks, cpuNs });
      }
    }
    lastUptimeTicks = uptimeTicks();

    const events: RawEvent[] = [];
    let measuredNs = 0;
    for (const entity of entities) {
      if (entity.id === hostEntityId) continue;
      const reading = readings.get(entity.id);
      const before = baselines.get(entity.id);
      if (!reading) {
        baselines.delete(entity.id);
        continue;
      }
      baselines.set(entity.id, { wallMs, reading });
      const isComparable = before && (before.reading.method === 'procfs' ? reading.method === 'procfs' : reading.method === 'cgroup' && before.reading.file === reading.file);
      if (!before || !isComparable) continue;
      const cores = coresBetween(before.reading.cpuNs, reading.cpuNs, wallMs - before.wallMs);
      if (cores === undefined) continue;
      measuredNs += reading.cpuNs - before.reading.cpuNs;
      events.push(cpuEvent(entity, cores, wallMs - before.wallMs, at));
    }

    const host = entities.find((e) => e.id === hostEntityId);
    const busyTicks = parseStatBusyTicks(readText(`${procRoot}/stat`) ?? '');
    if (host && busyTicks !== undefined) {
      const busyNs = busyTicks * nanosecondsPerTick;
      if (hostBaseline) {
        const elapsed = wallMs - hostBaseline.wallMs;
        const cores = coresBetween(hostBaseline.busyNs + measuredNs, busyNs, elapsed) ?? 0;
        events.push(cpuEvent(host, cores, elapsed, at));
      }
      hostBaseline = { wallMs, busyNs };
    }
    const listed = new Set(entities.map((e) => e.id));
    for (const id of baselines.keys()) if (!listed.has(id)) baselines.delete(id);
    return events;
  }

  function cpuEvent(entity: CpuSampledEntity, cores: number, elapsedMs: number, at: number): RawEvent {
    return {
      type: 'cpu-sample',
      at,
      sensor,
      entityId: entity.id,
      pid: entity.pid ?? 0,
      ...(entity.mntns !== undefined ? { mntns: entity.mntns } : {}),
      cores,
      intervalMs: Math.round(elapsedMs),
    };
  }

  return {
    sample,
    async run(sink, signal) {
      while (!signal.aborted) {
        for (const event of await sample()) sink(event);
        await sleep(intervalMs, undefined, { signal }).catch(() => undefined);
      }
    },
  };
}
