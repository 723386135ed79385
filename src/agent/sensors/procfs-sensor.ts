/**
 * The /proc polling sensor, for machines without eBPF or root. Every poll it lists /proc: a pid it has not seen is
 * an exec, a pid gone an exit; a pid whose start time changed (reuse) is both, and one whose comm changed exec'd in
 * place. Sockets come from /proc/PID/net/{tcp,tcp6,udp,udp6}, read once per network namespace and mapped to
 * processes through the `socket:[INODE]` links in /proc/PID/fd; files held open for writing from the same links and
 * /proc/PID/fdinfo flags. Each process, socket and (process, path) is reported once. An exec is sent once its
 * executable is hashed, without holding up the polls; the process's other events wait for it.
 *
 * What polling cannot see: a process that starts and ends between two polls, a connection opened and closed
 * between polls (or one that never got established), a file opened and closed between polls, and an fd number
 * closed and reused for another file until the next full fd round (every `fullFdScanEveryRounds` rounds; other
 * scans look only at fd numbers that are new). Exit codes are unknown. The exec time is the process's start time
 * (fork, to a clock tick), or the poll time for an exec in a running process. The eBPF sensor misses none of these.
 *
 * Cost: a poll reads stat and fds of new processes and of one turn of `maxProcessesPerTurn` running ones (the rest
 * get a stat of their /proc/PID directory, whose inode changes when the pid is reused), so with thousands of
 * processes an exec in a running process or a file write may show a few polls late. Socket tables, whose every read
 * walks the kernel's whole connection table, are read for namespaces with new sockets and otherwise every
 * `socketTableRefreshEveryPolls` polls. Reads are synchronous (memory reads in the kernel; the async API costs 4-5x
 * more), yielding to the event loop every `processesPerSlice` processes, and the pause after a poll grows so polling
 * uses at most `maxDutyCycle` of one core. Measured on a 2-core VM: ~4 ms CPU per poll with 100 processes, 25-60 ms
 * with 3,100 (the first poll, which reads and hashes everything, ~2 s).
 */
import { closeSync, openSync, readdirSync, readlinkSync, readSync, statSync } from 'node:fs';
import { endianness } from 'node:os';
import { setImmediate as yieldToEventLoop, setTimeout as sleep } from 'node:timers/promises';
import { NomineError } from '../../core/errors.ts';
import type { AddressFamily, Protocol, RawEvent } from '../event.ts';
import { createExeHasher, type ExeHash, type ExeHasher } from '../exe-hasher.ts';
import type { Sensor, SensorContext } from '../sensor.ts';
import {
  kernelThreadFlag,
  parseCmdline,
  parseExeLink,
  parseFdinfoFlags,
  parseProcStat,
  parseSocketLink,
  parseSocketTable,
  parseStatusUids,
  parseUptime,
  socketStates,
  writeFlagNames,
  type ProcStat,
  type SocketEntry,
} from './procfs-parse.ts';

const KiB = 1024;
const MiB = 1024 * KiB;

export interface ProcfsSensorLimits {
  /** Processes tracked at once; new ones beyond it are counted as dropped and not reported. */
  maxTrackedProcesses: number;
  /** Sockets remembered as reported (live sockets only: forgotten when they close); beyond it, socket events are dropped. */
  maxTrackedSockets: number;
  /** (process, path) file writes remembered per process; beyond it, that process's new file writes are dropped. */
  maxFileWritesPerProcess: number;
  /** Fds examined per process; a process holding more is looked at through its first ones only. */
  maxFdsPerProcess: number;
  /** Bytes read of one socket table (a line is ~150 bytes, so ~200k sockets); the rest is cut and counted. */
  maxSocketTableBytes: number;
  /** Bytes of a command line kept (the kernel allows far more). */
  maxCmdlineBytes: number;
  /**
   * Running processes whose stat and fds one poll reads (new processes are always read); beyond it they take turns
   * and the others get a cheap check (is /proc/PID the same inode), so thousands of processes cost a bounded amount.
   */
  maxProcessesPerTurn: number;
}

export const defaultProcfsSensorLimits: ProcfsSensorLimits = {
  maxTrackedProcesses: 65_536,
  maxTrackedSockets: 65_536,
  maxFileWritesPerProcess: 1_024,
  maxFdsPerProcess: 16_384,
  maxSocketTableBytes: 32 * MiB,
  maxCmdlineBytes: 64 * KiB,
  maxProcessesPerTurn: 512,
};

export const defaultPollIntervalMs = 250;
/** Every Nth round of the fd scan (a round looks at every process once) re-reads every fd link, catching an fd number closed and reused for another file. */
export const fullFdScanEveryRounds = 4;
/** Share of one core polling may use: a poll that took d ms of CPU is followed by a pause of at least d × (1 − c) / c. */
export const maxDutyCycle = 0.25;
/** Every Nth poll reads the socket tables of every network namespace; other polls only those with new sockets. */
export const socketTableRefreshEveryPolls = 8;
/** Polls after a new socket fd was seen during which its namespace's tables are read (it may connect or listen). */
export const newSocketSettlePolls = 8;
/** Events of one process held while its exec waits for its hash; more are dropped and counted. */
export const maxHeldEventsPerProcess = 256;
/** Processes read between two yields to the event loop. */
export const processesPerSlice = 256;
/** A `lost-events` status is sent at most this often while drops continue. */
const dropStatusIntervalMs = 10_000;
/** Linux exports process times in USER_HZ, 100 on every architecture the agent runs on. */
const ticksPerSecond = 100;

/** TCP states a connection that got established can be in while a file still refers to it. */
const connectedTcpStates = new Set([0x01, 0x04, 0x05, 0x08, 0x09, 0x0b]); // ESTABLISHED, FIN_WAIT1/2, CLOSE_WAIT, LAST_ACK, CLOSING
const socketTables: { file: string; protocol: Protocol }[] = [
  { file: 'tcp', protocol: 'tcp' },
  { file: 'tcp6', protocol: 'tcp' },
  { file: 'udp', protocol: 'udp' },
  { file: 'udp6', protocol: 'udp' },
];

/**
 * What a socket table line is worth reporting as. A UDP socket bound to an ephemeral port with no peer is most likely
 * a client socket the kernel bound on its first send, not a service: it is not reported as listening.
 */
export function socketEventKind(entry: SocketEntry, listeningTcpPorts: ReadonlySet<number>, ephemeralPorts: readonly [number, number]): 'connect' | 'accept' | 'listen' | undefined {
  if (entry.protocol === 'tcp') {
    if (entry.state === socketStates.listen) return 'listen';
    if (!connectedTcpStates.has(entry.state) || entry.remote.port === 0) return undefined;
    return listeningTcpPorts.has(entry.local.port) ? 'accept' : 'connect';
  }
  if (entry.state === socketStates.established && entry.remote.port !== 0) return 'connect';
  const isEphemeral = entry.local.port >= ephemeralPorts[0] && entry.local.port <= ephemeralPorts[1];
  if (entry.state === socketStates.close && entry.remote.port === 0 && entry.local.port !== 0 && !isEphemeral) return 'listen';
  return undefined;
}

export interface ProcfsSensorOptions {
  pollIntervalMs?: number;
  procRoot?: string;
  hasher?: ExeHasher;
  /** Report processes, sockets and files that exist when the sensor starts (default true). */
  reportExisting?: boolean;
  limits?: Partial<ProcfsSensorLimits>;
  /** Milliseconds since the epoch; the sensor reads the wall clock at its edge. */
  now?: () => number;
}

export interface ProcfsSensorStats {
  polls: number;
  /** Wall time of the last poll (hashing runs beside it), and CPU time this process used meanwhile. */
  lastPollMs: number;
  lastPollCpuMs: number;
  maxPollMs: number;
  /** Polls whose turn re-read every fd link. */
  fullFdScans: number;
  trackedProcesses: number;
  trackedSockets: number;
  droppedProcesses: number;
  droppedSocketEvents: number;
  droppedFileWrites: number;
  /** Events of a process whose exec was still being hashed, beyond maxHeldEventsPerProcess. */
  droppedHeldEvents: number;
  truncatedSocketTables: number;
  /** Sockets in the last poll whose process is not known yet (or not ours to read: orphans, a sandbox's pid 1). */
  socketsAwaitingOwner: number;
}

export type ProcfsSensor = Sensor & {
  /** Counters for the agent's status and metrics. */
  stats(): ProcfsSensorStats;
  /** One poll, resolved once its execs are hashed and sent, for tests and benchmarks; `start` runs polls on its schedule. */
  poll(context: Pick<SensorContext, 'sink' | 'onStatus'>): Promise<void>;
};

interface TrackedProcess {
  pid: number;
  starttime: number;
  comm: string;
  isKernelThread: boolean;
  exe?: string;
  mntns?: number;
  pidns?: number;
  netns?: number;
  /** Kernel threads, and runc's init before the container's command replaces it: no exec, no exit. */
  isQuiet: boolean;
  /** Inode of /proc/PID: a new one means the pid may have been reused, and stat is read again to tell. */
  dirIno?: number;
  /** fd number → the link it read as when last examined. */
  fds: Map<number, string>;
  writes: Set<string>;
  /** While its exec waits for the executable's hash, the process's other events wait here, so the exec comes first. */
  held?: RawEvent[];
  /** Settles once the latest exec of this process was sent: a child's exec waits for its parent's. */
  execSent?: Promise<void>;
}

/**
 * runc's init stage of a container's first process: the container's command replaces it within
 * milliseconds, and that exec is the one worth reporting (seen as a change of comm).
 */
function isRuntimeInit(comm: string): boolean {
  return comm.startsWith('runc:[');
}

function processKeyMatches(tracked: TrackedProcess, stat: ProcStat): boolean {
  return tracked.starttime === stat.starttime;
}

/** Reads a /proc file of unknown size (they report 0) up to `maxBytes`; undefined when it cannot be opened. */
function readProcBytes(path: string, maxBytes: number): { bytes: Buffer; truncated: boolean } | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(64 * KiB, maxBytes + 1 - total));
      const count = readSync(fd, chunk, 0, chunk.length, null);
      if (count === 0) break;
      chunks.push(chunk.subarray(0, count));
      total += count;
      if (total > maxBytes) {
        const bytes = Buffer.concat(chunks).subarray(0, maxBytes);
        return { bytes, truncated: true };
      }
    }
    return { bytes: Buffer.concat(chunks, total), truncated: false };
  } catch {
    return undefined; // the process exited while we read
  } finally {
    closeSync(fd);
  }
}

const smallReadBuffer = Buffer.allocUnsafe(8 * KiB);

/** stat, status, fdinfo: a few hundred bytes to a few KiB. */
function readSmallProcText(path: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  try {
    const count = readSync(fd, smallReadBuffer, 0, smallReadBuffer.length, 0);
    return smallReadBuffer.toString('utf8', 0, count);
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** The inode of /proc/PID (undefined when the process is gone). */
function directoryInode(path: string): number | undefined {
  try {
    return statSync(path, { throwIfNoEntry: false })?.ino;
  } catch {
    return undefined;
  }
}

function readLink(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}

function namespaceInode(link: string | undefined): number | undefined {
  const match = link ? /^[a-z]+:\[(\d{1,20})\]$/.exec(link) : null;
  const inode = match ? Number(match[1]) : undefined;
  return inode !== undefined && Number.isSafeInteger(inode) ? inode : undefined;
}

function readEphemeralPorts(procRoot: string): [number, number] {
  const match = /^(\d+)\s+(\d+)/.exec(readSmallProcText(`${procRoot}/sys/net/ipv4/ip_local_port_range`) ?? '');
  return match ? [Number(match[1]), Number(match[2])] : [32768, 60999];
}

export function createProcfsSensor(options: ProcfsSensorOptions = {}): ProcfsSensor {
  const procRoot = options.procRoot ?? '/proc';
  const pollIntervalMs = options.pollIntervalMs ?? defaultPollIntervalMs;
  const limits = { ...defaultProcfsSensorLimits, ...options.limits };
  const hasher = options.hasher ?? createExeHasher({ procRoot });
  const now = options.now ?? Date.now;
  const isLittleEndian = endianness() === 'LE';
  const reportExisting = options.reportExisting ?? true;

  const processes = new Map<number, TrackedProcess>();
  /** socket inode → pid of a process holding it, from the fd links examined. */
  const socketOwners = new Map<number, number>();
  /** socket inode → network namespace it was reported in, until it closes. */
  const handledSockets = new Map<number, number>();
  const counters = {
    polls: 0,
    lastPollMs: 0,
    lastPollCpuMs: 0,
    maxPollMs: 0,
    fullFdScans: 0,
    droppedProcesses: 0,
    droppedSocketEvents: 0,
    droppedFileWrites: 0,
    droppedHeldEvents: 0,
    truncatedSocketTables: 0,
    socketsAwaitingOwner: 0,
  };
  let lastDropStatusAt = -Infinity;
  /** The fd scan's turns: pids in the current round, the next one to look at, rounds begun. */
  let rotation: number[] = [];
  let rotationAt = 0;
  let rounds = 0;
  /** Network namespaces where the last read found a socket whose owner is not known yet: their turns re-read every fd link. */
  const netnsAwaitingOwner = new Set<number>();
  /** Socket inode → the fd scan round it was first found without an owner in, and its namespace. */
  const awaitingSince = new Map<number, { round: number; netns: number }>();
  /** Network namespace → the last poll a process in it was found holding a socket not seen before. */
  const newSocketPoll = new Map<number, number>();
  /** Execs waiting for their hash; `start` lets them finish before it resolves. */
  const execsInFlight = new Set<Promise<void>>();
  let ephemeralPorts: [number, number] | undefined;

  function contextOf(process: TrackedProcess) {
    return {
      pid: process.pid,
      ...(process.mntns !== undefined ? { mntns: process.mntns } : {}),
      ...(process.pidns !== undefined ? { pidns: process.pidns } : {}),
      comm: process.comm,
    };
  }

  function forgetFd(process: TrackedProcess, fd: number): void {
    const inode = parseSocketLink(process.fds.get(fd) ?? '');
    if (inode !== undefined && socketOwners.get(inode) === process.pid) socketOwners.delete(inode);
    process.fds.delete(fd);
  }

  function forgetProcess(process: TrackedProcess): void {
    for (const fd of [...process.fds.keys()]) forgetFd(process, fd);
    processes.delete(process.pid);
  }

  /** What the sensor keeps about a process: identity, namespaces, executable path (the exec event reads the rest). */
  function describeProcess(pid: number, stat: ProcStat): TrackedProcess {
    const base = `${procRoot}/${pid}`;
    const dirIno = directoryInode(base);
    const exeLink = readLink(`${base}/exe`);
    const netns = namespaceInode(readLink(`${base}/ns/net`));
    const mntns = namespaceInode(readLink(`${base}/ns/mnt`));
    const pidns = namespaceInode(readLink(`${base}/ns/pid`));
    return {
      pid,
      starttime: stat.starttime,
      comm: stat.comm,
      isKernelThread: (stat.flags & kernelThreadFlag) !== 0,
      isQuiet: (stat.flags & kernelThreadFlag) !== 0 || isRuntimeInit(stat.comm),
      ...(dirIno !== undefined ? { dirIno } : {}),
      // runc's init: what it does is the container command's, reported after that command's exec.
      ...(isRuntimeInit(stat.comm) ? { held: [] } : {}),
      ...(exeLink !== undefined ? { exe: parseExeLink(exeLink).path } : {}),
      ...(mntns !== undefined ? { mntns } : {}),
      ...(pidns !== undefined ? { pidns } : {}),
      ...(netns !== undefined ? { netns } : {}),
      fds: new Map(),
      writes: new Set(),
    };
  }

  /** Sends an event of `process` now, or after its exec when that still waits for its hash. */
  function emit(process: TrackedProcess, sink: (event: RawEvent) => void, event: RawEvent): void {
    if (!process.held) return sink(event);
    if (process.held.length < maxHeldEventsPerProcess) process.held.push(event);
    else counters.droppedHeldEvents += 1;
  }

  /**
   * Reads what an exec reports now (the process may be gone in a moment) and sends it once the executable is hashed,
   * without holding up the poll: a large new binary must not blind the sensor for the second it takes to read.
   */
  function scheduleExec(process: TrackedProcess, stat: ProcStat, at: number, sink: (event: RawEvent) => void): void {
    const send = (event: RawEvent) => {
      try {
        sink(event);
      } catch {
        // The sink is a queue that does not throw; if one does, the events after it must still go out.
      }
    };
    const base = `${procRoot}/${process.pid}`;
    const uids = parseStatusUids(readSmallProcText(`${base}/status`) ?? '');
    const argv = parseCmdline(readProcBytes(`${base}/cmdline`, limits.maxCmdlineBytes)?.bytes ?? Buffer.alloc(0));
    const parent = processes.get(stat.ppid);
    const before = [process.execSent, parent?.execSent].filter((p) => p !== undefined);
    const context = contextOf(process);
    const held: RawEvent[] = process.held ?? [];
    process.held = held;
    const hashing = hasher.hash(process.pid).catch((error: Error) => ({ hashError: `hash failed: ${error.message}` }) as ExeHash);
    const sent = Promise.all([hashing, ...before]).then(([hashed]) => {
      const parentExe = parent?.exe;
      send({
        type: 'exec',
        at,
        sensor: 'procfs',
        ...context,
        ppid: stat.ppid,
        uid: uids?.uid ?? -1,
        // Without the right to read the link (another user's process, not root), argv[0] is the best name there is.
        exe: hashed.exe ?? process.exe ?? argv[0] ?? process.comm,
        argv,
        ...(hashed.sha256 ? { sha256: hashed.sha256 } : {}),
        ...(hashed.hashError ? { hashError: hashed.hashError } : {}),
        ...(hashed.exeDeleted ? { exeDeleted: true } : {}),
        ...(parentExe ? { parentExe } : {}),
      });
      if (process.execSent !== sent) return; // a later exec of the same process sends the held events
      process.held = undefined;
      for (const event of held) send(event);
    });
    process.execSent = sent;
    execsInFlight.add(sent);
    void sent.finally(() => execsInFlight.delete(sent));
  }

  /** Processes: new ones (exec), gone ones (exit), reused pids (exit then exec), exec in a running process. */
  async function pollProcesses(sink: (event: RawEvent) => void, isSilent: boolean, at: number, turn: ReadonlySet<TrackedProcess>): Promise<TrackedProcess[]> {
    let names: string[];
    try {
      names = readdirSync(procRoot);
    } catch (error) {
      throw new NomineError('unreachable', `cannot list ${procRoot}: ${(error as Error).message}`, 'procfs sensor', { cause: error });
    }
    const uptime = parseUptime(readSmallProcText(`${procRoot}/uptime`) ?? '');
    const bootTimeMs = uptime !== undefined ? at - uptime * 1000 : undefined;
    const seen = new Set<number>();
    const execs: { process: TrackedProcess; stat: ProcStat; at: number }[] = [];
    const exits: TrackedProcess[] = [];
    let sliced = 0;
    for (const name of names) {
      const code = name.charCodeAt(0);
      if (code < 48 || code > 57) continue;
      const pid = Number(name);
      if (++sliced % processesPerSlice === 0) await yieldToEventLoop();
      const tracked = processes.get(pid);
      // stat is the costly read: a running process gets it in its turn (or while runc's init, about to exec);
      // otherwise an unchanged /proc/PID inode says the pid still names the same process.
      if (tracked && !turn.has(tracked) && !(tracked.isQuiet && !tracked.isKernelThread)) {
        const dirIno = directoryInode(`${procRoot}/${pid}`);
        if (dirIno === undefined) continue; // exited since readdir
        if (dirIno === tracked.dirIno) {
          seen.add(pid);
          continue;
        }
        tracked.dirIno = dirIno;
      }
      const stat = parseProcStat(readSmallProcText(`${procRoot}/${pid}/stat`) ?? '');
      if (!stat) continue; // exited between readdir and read
      if (tracked && processKeyMatches(tracked, stat)) {
        seen.add(pid);
        if (tracked.comm === stat.comm || tracked.isKernelThread) continue;
        // Same process, new comm: it exec'd another program (an entrypoint's `exec "$@"`, runc's init the command).
        const described = describeProcess(pid, stat);
        Object.assign(tracked, { comm: stat.comm, exe: described.exe, mntns: described.mntns, pidns: described.pidns, netns: described.netns, isQuiet: described.isQuiet });
        if (tracked.isQuiet) continue;
        execs.push({ process: tracked, stat, at });
        continue;
      }
      if (tracked) exits.push(tracked); // the pid was reused: the process we knew is gone
      if (!tracked && processes.size >= limits.maxTrackedProcesses) {
        counters.droppedProcesses += 1;
        continue;
      }
      seen.add(pid);
      const process = describeProcess(pid, stat);
      processes.set(pid, process);
      if (process.isQuiet) continue;
      const startedAt = bootTimeMs !== undefined ? Math.round(bootTimeMs + (stat.starttime * 1000) / ticksPerSecond) : at;
      execs.push({ process, stat, at: Math.min(startedAt, at) });
    }
    for (const process of processes.values()) if (!seen.has(process.pid)) exits.push(process);
    for (const process of exits) {
      if (processes.get(process.pid) === process) forgetProcess(process);
      else for (const fd of [...process.fds.keys()]) forgetFd(process, fd);
      if (!isSilent && !process.isQuiet) emit(process, sink, { type: 'exit', at, sensor: 'procfs', ...contextOf(process) });
    }
    const changed = execs.map((e) => e.process);
    if (isSilent) return changed;
    // In start order, so a parent's exec is scheduled (and sent) before its children's.
    execs.sort((a, b) => a.at - b.at || a.process.pid - b.process.pid);
    for (const { process, stat, at: execAt } of execs) scheduleExec(process, stat, execAt, sink);
    return changed;
  }

  /**
   * Examines the fd links of `list`: all of them on a full scan, or for a process in a network namespace with a
   * socket still awaiting its owner (the socket may have taken an fd number closed since it was last looked at);
   * otherwise only fd numbers not seen before.
   */
  async function scanFds(list: Iterable<TrackedProcess>, isFullScan: boolean, onFile: (process: TrackedProcess, fd: number, link: string) => void): Promise<void> {
    let sliced = 0;
    for (const process of list) {
      if (process.isKernelThread || processes.get(process.pid) !== process) continue;
      const isFull = isFullScan || (process.netns !== undefined && netnsAwaitingOwner.has(process.netns));
      if (++sliced % processesPerSlice === 0) await yieldToEventLoop();
      const fdDir = `${procRoot}/${process.pid}/fd`;
      let entries: string[];
      try {
        entries = readdirSync(fdDir);
      } catch {
        continue; // exited, or not ours to read
      }
      const open = new Set<number>();
      for (const entry of entries.length > limits.maxFdsPerProcess ? entries.slice(0, limits.maxFdsPerProcess) : entries) {
        const fd = Number(entry);
        open.add(fd);
        const known = process.fds.get(fd);
        if (known !== undefined && !isFull) continue;
        // An fd whose link cannot be read (closed meanwhile, or a sandbox denying even root) is remembered as '' so
        // that incremental scans do not try it again every poll.
        const link = readLink(`${fdDir}/${fd}`) ?? '';
        if (link === known) continue;
        if (known !== undefined) forgetFd(process, fd);
        process.fds.set(fd, link);
        const inode = parseSocketLink(link);
        if (inode !== undefined) {
          socketOwners.set(inode, process.pid);
          if (process.netns !== undefined) newSocketPoll.set(process.netns, counters.polls);
        } else if (link.startsWith('/')) onFile(process, fd, link);
      }
      for (const fd of process.fds.keys()) if (!open.has(fd)) forgetFd(process, fd);
    }
  }

  /**
   * The running processes whose stat and fds this poll reads (the others get the cheap checks), and whether their
   * round re-reads every fd link.
   */
  function nextTurn(): { turn: TrackedProcess[]; isFull: boolean } {
    if (rotationAt >= rotation.length) {
      rotation = [...processes.values()].filter((p) => !p.isKernelThread).map((p) => p.pid);
      rotationAt = 0;
      rounds += 1;
    }
    const turn: TrackedProcess[] = [];
    while (rotationAt < rotation.length && turn.length < limits.maxProcessesPerTurn) {
      const process = processes.get(rotation[rotationAt++]!);
      if (process) turn.push(process);
    }
    return { turn, isFull: rounds % fullFdScanEveryRounds === 1 };
  }

  function fileWriteCheck(sink: (event: RawEvent) => void, isSilent: boolean, at: number) {
    return (process: TrackedProcess, fd: number, link: string): void => {
      const path = parseExeLink(link).path;
      if (process.writes.has(path)) return;
      const flags = parseFdinfoFlags(readSmallProcText(`${procRoot}/${process.pid}/fdinfo/${fd}`) ?? '');
      const names = flags !== undefined ? writeFlagNames(flags) : undefined;
      if (!names) return;
      try {
        if (!statSync(`${procRoot}/${process.pid}/fd/${fd}`).isFile()) return; // ttys, /dev/null, device nodes
      } catch {
        return;
      }
      if (process.writes.size >= limits.maxFileWritesPerProcess) {
        counters.droppedFileWrites += 1;
        return;
      }
      process.writes.add(path);
      if (!isSilent) emit(process, sink, { type: 'file-write', at, sensor: 'procfs', ...contextOf(process), path, flags: names });
    };
  }

  interface NamespaceSockets {
    netns: number;
    entries: SocketEntry[];
  }

  /**
   * Reads the socket tables once per network namespace, through one process living in it, for the namespaces where
   * a process got a new socket lately (it may still connect or listen) or when their periodic refresh is due. Each
   * read walks the kernel's whole connection hash table (milliseconds on a large machine), so a quiet namespace is
   * not read every poll.
   */
  function readSocketTables(): NamespaceSockets[] {
    const isRefresh = counters.polls % socketTableRefreshEveryPolls === 0;
    const representatives = new Map<number, number>();
    for (const process of processes.values()) {
      if (process.isKernelThread || process.netns === undefined || representatives.has(process.netns)) continue;
      const lastNewSocket = newSocketPoll.get(process.netns);
      if (!isRefresh && (lastNewSocket === undefined || counters.polls - lastNewSocket > newSocketSettlePolls)) continue;
      representatives.set(process.netns, process.pid);
    }
    for (const [netns, poll] of newSocketPoll) if (counters.polls - poll > newSocketSettlePolls) newSocketPoll.delete(netns);
    const namespaces: NamespaceSockets[] = [];
    for (const [netns, pid] of representatives) {
      const entries: SocketEntry[] = [];
      let isReadable = true;
      for (const table of socketTables) {
        const read = readProcBytes(`${procRoot}/${pid}/net/${table.file}`, limits.maxSocketTableBytes);
        if (!read) {
          // tcp6/udp6 are absent when IPv6 is disabled; a missing tcp means the process left with its namespace.
          if (table.file === 'tcp') isReadable = false;
          continue;
        }
        let text = read.bytes.toString('latin1');
        if (read.truncated) {
          counters.truncatedSocketTables += 1;
          text = text.slice(0, text.lastIndexOf('\n') + 1); // a cut line could parse into a wrong inode
        }
        entries.push(...parseSocketTable(text, table.protocol, isLittleEndian));
      }
      if (isReadable) namespaces.push({ netns, entries });
    }
    return namespaces;
  }

  type SocketEvent = { kind: 'connect' | 'accept' | 'listen'; entry: SocketEntry; netns: number };

  /** The sockets worth an event: listening (TCP) or bound (UDP, not an ephemeral port), and established ones. */
  function interestingSockets(namespaces: NamespaceSockets[]): { candidates: SocketEvent[]; live: Set<number> } {
    const ephemeral = (ephemeralPorts ??= readEphemeralPorts(procRoot));
    const candidates: SocketEvent[] = [];
    const live = new Set<number>();
    for (const { netns, entries } of namespaces) {
      const listeningTcpPorts = new Set(entries.filter((e) => e.protocol === 'tcp' && e.state === socketStates.listen).map((e) => e.local.port));
      for (const entry of entries) {
        if (entry.inode === 0) continue;
        live.add(entry.inode);
        if (handledSockets.has(entry.inode)) continue;
        const kind = socketEventKind(entry, listeningTcpPorts, ephemeral);
        if (kind) candidates.push({ kind, entry, netns });
      }
    }
    return { candidates, live };
  }

  function socketEvent(candidate: SocketEvent, process: TrackedProcess, at: number): RawEvent {
    const { kind, entry } = candidate;
    const peer = kind === 'listen' ? entry.local : entry.remote;
    const family: AddressFamily = peer.family;
    return {
      type: kind,
      at,
      sensor: 'procfs',
      ...contextOf(process),
      protocol: entry.protocol,
      family,
      address: peer.address,
      port: peer.port,
      ...(kind === 'accept' ? { localPort: entry.local.port } : {}),
    };
  }

  /**
   * Socket events for the sockets whose owner the fd scans found. One whose process's fds have not been looked at
   * since it appeared waits for that process's turn, which then re-reads every link of the processes in its namespace.
   */
  function pollSockets(sink: (event: RawEvent) => void, isSilent: boolean, at: number): void {
    const namespaces = readSocketTables();
    const { candidates, live } = interestingSockets(namespaces);
    const readNamespaces = new Set(namespaces.map((n) => n.netns));
    for (const [inode, netns] of handledSockets) if (readNamespaces.has(netns) && !live.has(inode)) handledSockets.delete(inode);
    for (const [inode, { netns }] of awaitingSince) if (readNamespaces.has(netns) && !live.has(inode)) awaitingSince.delete(inode);
    let awaitingOwner = 0;
    for (const netns of readNamespaces) netnsAwaitingOwner.delete(netns);
    for (const candidate of candidates) {
      const { inode } = candidate.entry;
      const owner = processes.get(socketOwners.get(inode) ?? -1);
      if (!owner) {
        awaitingOwner += 1;
        // Full re-reads for it during the round it appeared in and the next; after that its owner is not ours to
        // see (an orphan, another user's process, a sandbox's pid 1), and it stops costing full scans.
        const since = awaitingSince.get(inode)?.round ?? rounds;
        if (!awaitingSince.has(inode) && awaitingSince.size < limits.maxTrackedSockets) awaitingSince.set(inode, { round: since, netns: candidate.netns });
        if (rounds - since <= 1) netnsAwaitingOwner.add(candidate.netns);
        continue;
      }
      awaitingSince.delete(inode);
      if (handledSockets.size >= limits.maxTrackedSockets) {
        counters.droppedSocketEvents += 1;
        continue;
      }
      handledSockets.set(inode, candidate.netns);
      if (!isSilent) emit(owner, sink, socketEvent(candidate, owner, at));
    }
    counters.socketsAwaitingOwner = awaitingOwner;
  }

  async function poll({ sink, onStatus }: Pick<SensorContext, 'sink' | 'onStatus'>, isSilent = false): Promise<void> {
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    const at = now();
    const dropsBefore = counters.droppedProcesses + counters.droppedSocketEvents + counters.droppedFileWrites;
    const { turn, isFull } = nextTurn();
    const changed = await pollProcesses(sink, isSilent, at, new Set(turn));
    const onFile = fileWriteCheck(sink, isSilent, at);
    // New processes and ones that exec'd: every fd now (close-on-exec fds are gone, numbers may be reused).
    await scanFds(changed, true, onFile);
    const changedSet = new Set(changed);
    if (isFull) counters.fullFdScans += 1;
    await scanFds(turn.filter((p) => !changedSet.has(p)), isFull, onFile);
    pollSockets(sink, isSilent, at);
    counters.polls += 1;
    counters.lastPollMs = performance.now() - started;
    counters.lastPollCpuMs = (({ user, system }) => (user + system) / 1000)(process.cpuUsage(cpuBefore));
    counters.maxPollMs = Math.max(counters.maxPollMs, counters.lastPollMs);
    const dropped = counters.droppedProcesses + counters.droppedSocketEvents + counters.droppedFileWrites - dropsBefore;
    if (dropped > 0 && at - lastDropStatusAt >= dropStatusIntervalMs) {
      lastDropStatusAt = at;
      onStatus({ kind: 'lost-events', message: `procfs sensor over its limits: ${dropped} processes, sockets or file writes not reported in the last poll`, count: dropped });
    }
  }

  return {
    name: 'procfs',

    async available() {
      if (readSmallProcText(`${procRoot}/self/stat`) === undefined) return { ok: false, reason: `${procRoot} is not mounted or not readable` };
      return { ok: true };
    },

    async start({ sink, onStatus, signal }) {
      if (readSmallProcText(`${procRoot}/self/stat`) === undefined) {
        throw new NomineError('unsupported', `${procRoot} is not mounted or not readable`, 'procfs sensor');
      }
      onStatus({ kind: 'started', message: `polling ${procRoot} every ${pollIntervalMs} ms (misses processes and connections shorter than that)` });
      let isFirst = true;
      while (!signal.aborted) {
        try {
          await poll({ sink, onStatus }, isFirst && !reportExisting);
        } catch (error) {
          onStatus({ kind: 'warning', message: `procfs poll failed: ${(error as Error).message}` });
        }
        // The first poll reads every process once; the duty cycle is about the steady cost, in CPU, not wall time
        // (on a loaded machine a poll waits for the CPU as long as it uses it).
        const { lastPollMs, lastPollCpuMs } = counters;
        const pause = Math.max(pollIntervalMs - lastPollMs, isFirst ? 0 : (lastPollCpuMs * (1 - maxDutyCycle)) / maxDutyCycle);
        isFirst = false;
        await sleep(pause, undefined, { signal }).catch(() => undefined);
      }
      await Promise.allSettled([...execsInFlight]);
      onStatus({ kind: 'stopped', message: 'procfs sensor stopped' });
    },

    stats: () => ({ ...counters, trackedProcesses: processes.size, trackedSockets: handledSockets.size }),

    poll: async (context) => {
      await poll(context);
      await Promise.allSettled([...execsInFlight]);
    },
  };
}
