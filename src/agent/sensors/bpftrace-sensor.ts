/**
 * The eBPF sensor: runs Debian's bpftrace with our generated script (bpftrace-script.ts), reads its output as a
 * stream (bpftrace-output.ts) and hands every event to the sink without waiting on it. It supervises the bpftrace
 * process: reports when it attached, restarts it with backoff when it exits or crashes, gives up with a clear
 * 'failed' when it cannot start at all (a script the installed bpftrace will not compile), and never leaves it
 * running behind the agent (killed on abort and on process exit, and by the kernel through setpriv's parent-death
 * signal when the agent dies by a signal).
 *
 * Known limits (bpftrace 0.17, tracepoints only): strings are cut at 200 bytes (paths at 199; a cut argv is
 * re-read from /proc/PID/cmdline while the process lives); a relative path is made absolute through
 * /proc/PID/cwd or /proc/PID/fd/N only if the process still exists when its line is read; connect is reported at
 * the attempt (before the kernel says whether it worked); UDP datagrams sent without connect() are not seen;
 * counts of syscalls made between bpftrace reading the count map and clearing it are lost; syscalls of 32-bit
 * (ia32) processes are named with the x86_64 table.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readlinkSync, readSync } from 'node:fs';
import { delimiter, join, posix } from 'node:path';
import { setPriority } from 'node:os';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { NomineError } from '../../core/errors.ts';
import { ensureTracefs, listSyscallTracepoints, tracefsMountPoint } from '../../platform/tracefs.ts';
import type { RawEvent } from '../event.ts';
import type { Sensor, SensorAvailability, SensorContext, SensorStatus } from '../sensor.ts';
import { x86_64SyscallName } from '../syscall-names.ts';
import { BpftraceOutputReader, splitNulSeparated, type BpftraceLineFormat } from './bpftrace-output.ts';
import { atFdCwd, generateBpftraceScript, killControl, killControlCall, maxBpftraceStringLength, scriptNeedsUnsafe } from './bpftrace-script.ts';

const run = promisify(execFile);

export interface BpftraceSensorOptions {
  /** The bpftrace binary (default `bpftrace` on PATH). */
  bpftracePath?: string;
  /** How often per-namespace syscall counts are emitted (default 2000 ms). */
  syscallIntervalMs?: number;
  /** Perf ring buffer pages per CPU (BPFTRACE_PERF_RB_PAGES; default 1024, i.e. 4 MiB per CPU). */
  perfRingPages?: number;
  /** Entries per bpftrace map (BPFTRACE_MAP_KEYS_MAX): bounds the (mount namespace, syscall) pairs per interval. */
  mapKeysMax?: number;
  /** In-kernel kill (runs bpftrace with --unsafe): a connect to one of these ports … */
  killOnConnectPorts?: number[];
  /** … from a process in one of these mount namespaces gets SIGKILL before the connect happens. Both lists are needed. */
  killInMountNamespaces?: number[];
  /** Let this process change the enforcing namespaces while bpftrace runs (see `setConnectKill`). */
  killControl?: boolean;
  /** Enforce in every container's namespace unless exempted (the node's default mode acts); needs `hostMntns`. */
  killByDefault?: boolean;
  hostMntns?: number;
  /** Backoff between restarts: doubles from `initial` up to `max` while bpftrace keeps dying soon after starting. */
  restartDelayMs?: { initial: number; max: number };
  /** A bpftrace that ran at least this long before dying is restarted after the initial delay again. */
  stableAfterMs?: number;
  /** Consecutive restarts that never get their probes attached before the sensor gives up as failed. */
  maxStartFailures?: number;
  /** How long bpftrace may take to compile and attach (BTF parsing takes seconds on a small machine). */
  attachTimeoutMs?: number;
  tracefsPath?: string;
  btfPath?: string;
  now?: () => number;
}

export const bpftraceSensorDefaults = {
  syscallIntervalMs: 2000,
  perfRingPages: 1024,
  mapKeysMax: 65_536,
  restartDelayMs: { initial: 250, max: 10_000 },
  stableAfterMs: 30_000,
  maxStartFailures: 5,
  attachTimeoutMs: 60_000,
};

type Settings = typeof bpftraceSensorDefaults & BpftraceSensorOptions;

/** Bytes of /proc/PID/cmdline read when bpftrace had to cut an argv; a longer argv is cut here instead. */
const maxCmdlineBytes = 64 * 1024;
/** stderr lines kept to explain an exit. */
const keptStderrLines = 12;
/** Grace before SIGKILL when asking bpftrace to stop. */
const stopGraceMs = 2000;

const memlockWarning = /RLIMIT_MEMLOCK/;

/** The eBPF sensor, plus in-kernel enforcement of stratum-port connects per mount namespace. */
export interface BpftraceSensor extends Sensor {
  /** Enforce (kill connects to the kill ports), exempt (with killByDefault), or clear a namespace; kept across restarts. */
  setConnectKill(mntns: number, action: keyof typeof killControl): void;
}

export function createBpftraceSensor(options: BpftraceSensorOptions = {}): BpftraceSensor {
  const killRequests = new Map<number, keyof typeof killControl>();
  const bpftrace = options.bpftracePath ?? 'bpftrace';
  const d = bpftraceSensorDefaults;
  const settings: Settings = {
    ...options,
    syscallIntervalMs: options.syscallIntervalMs ?? d.syscallIntervalMs,
    perfRingPages: options.perfRingPages ?? d.perfRingPages,
    mapKeysMax: options.mapKeysMax ?? d.mapKeysMax,
    restartDelayMs: options.restartDelayMs ?? d.restartDelayMs,
    stableAfterMs: options.stableAfterMs ?? d.stableAfterMs,
    maxStartFailures: options.maxStartFailures ?? d.maxStartFailures,
    attachTimeoutMs: options.attachTimeoutMs ?? d.attachTimeoutMs,
  };
  const tracefsPath = options.tracefsPath ?? tracefsMountPoint;
  const btfPath = options.btfPath ?? '/sys/kernel/btf/vmlinux';
  const now = options.now ?? Date.now;
  validate(settings);

  return {
    name: 'ebpf',
    setConnectKill(mntns, action) {
      if (!settings.killControl) return;
      if (killRequests.get(mntns) === action || (action === 'clear' && !killRequests.has(mntns))) return;
      if (action === 'clear') killRequests.delete(mntns);
      else killRequests.set(mntns, action);
      sendKillControl(mntns, action);
    },

    async available(): Promise<SensorAvailability> {
      if (typeof process.getuid === 'function' && process.getuid() !== 0) return { ok: false, reason: 'the eBPF sensor needs root (bpftrace loads BPF programs)' };
      try {
        await run(bpftrace, ['--version'], { timeout: 10_000 });
      } catch (error) {
        return { ok: false, reason: `bpftrace cannot be run (${bpftrace}): ${(error as Error).message.split('\n')[0]}; install Debian's bpftrace package` };
      }
      const tracefs = await ensureTracefs(tracefsPath);
      if (!tracefs.ok) return { ok: false, reason: tracefs.reason };
      if (!existsSync(btfPath)) return { ok: false, reason: `no kernel BTF at ${btfPath}: the script reads task_struct fields, which needs CONFIG_DEBUG_INFO_BTF` };
      return { ok: true };
    },

    async start(context: SensorContext): Promise<void> {
      if (context.signal.aborted) return;
      const tracefs = await ensureTracefs(tracefsPath);
      if (!tracefs.ok) {
        context.onStatus({ kind: 'failed', message: tracefs.reason });
        throw new NomineError('unsupported', tracefs.reason, 'sensor ebpf');
      }
      const kill = killRules(settings, context.onStatus);
      // bpftrace's maps start empty on every (re)start: replay what the agent asked for once it is attached.
      const onStatus = context.onStatus;
      context = {
        ...context,
        onStatus: (status) => {
          if (status.kind === 'started' || status.kind === 'restarted') for (const [ns, action] of killRequests) sendKillControl(ns, action);
          onStatus(status);
        },
      };
      const tracepoints = listSyscallTracepoints(tracefs.path);
      const nonce = randomBytes(8).toString('hex');
      const script = generateBpftraceScript({
        nonce,
        syscallIntervalMs: settings.syscallIntervalMs,
        kill,
        // When the list cannot be read, let bpftrace say what is missing rather than silently dropping probes.
        hasTracepoint: tracepoints.size > 0 ? (name) => tracepoints.has(name) : undefined,
      });
      // The script goes in on stdin: no file to clean up, and the nonce it holds is readable by no one else.
      const args = ['-B', 'line', ...(kill ? ['--unsafe'] : []), '-'];
      await supervise({ bpftrace, args, script, format: lineFormat(nonce), settings, context, now });
    },
  };
}

function validate(settings: Settings): void {
  const positive = (value: number, name: string, min = 1) => {
    if (!Number.isInteger(value) || value < min) throw new NomineError('invalid-input', `${name} must be an integer ≥ ${min}, got ${value}`, 'sensor ebpf');
  };
  positive(settings.syscallIntervalMs, 'syscallIntervalMs', 100);
  positive(settings.perfRingPages, 'perfRingPages');
  if ((settings.perfRingPages & (settings.perfRingPages - 1)) !== 0) throw new NomineError('invalid-input', 'perfRingPages must be a power of two', 'sensor ebpf');
  positive(settings.mapKeysMax, 'mapKeysMax');
  positive(settings.maxStartFailures, 'maxStartFailures');
  positive(settings.attachTimeoutMs, 'attachTimeoutMs');
  for (const port of settings.killOnConnectPorts ?? []) {
    if (!Number.isInteger(port) || port < 1 || port > 0xffff) throw new NomineError('invalid-input', `killOnConnectPorts: ${port} is not a port`, 'sensor ebpf');
  }
  for (const ns of settings.killInMountNamespaces ?? []) {
    if (!Number.isInteger(ns) || ns < 1 || ns > 0xffffffff) throw new NomineError('invalid-input', `killInMountNamespaces: ${ns} is not a namespace inode`, 'sensor ebpf');
  }
}

function sendKillControl(mntns: number, action: keyof typeof killControl): void {
  const { who, niceval } = killControlCall(mntns, action);
  try {
    setPriority(who, niceval);
  } catch {
    // ESRCH, by design: the call names no process; the script read its arguments on the way in.
  }
}

function killRules(settings: BpftraceSensorOptions, onStatus: (status: SensorStatus) => void) {
  const ports = settings.killOnConnectPorts ?? [];
  const mountNamespaces = settings.killInMountNamespaces ?? [];
  const kill = {
    ports,
    mountNamespaces,
    ...(settings.killControl ? { controlPid: process.pid } : {}),
    ...(settings.killByDefault && settings.hostMntns ? { byDefault: true, hostMntns: settings.hostMntns } : {}),
  };
  if (scriptNeedsUnsafe({ kill })) return kill;
  if (ports.length > 0 || mountNamespaces.length > 0) {
    onStatus({ kind: 'warning', message: 'in-kernel kill needs killOnConnectPorts and enforcing namespaces (killInMountNamespaces, killControl or killByDefault); running without it' });
  }
  return undefined;
}

/** The line format with its /proc hooks: relative paths and argv longer than bpftrace's 200-byte strings. */
function lineFormat(nonce: string): BpftraceLineFormat {
  return {
    terminator: `\t${nonce}`,
    syscallName: x86_64SyscallName,
    resolvePath(pid, dirFd, path) {
      try {
        const base = readlinkSync(dirFd === atFdCwd ? `/proc/${pid}/cwd` : `/proc/${pid}/fd/${dirFd}`);
        return base.startsWith('/') ? posix.join(base, path) : undefined;
      } catch {
        return undefined; // the process is gone, or the fd closed: keep the path as given
      }
    },
    readArgv(pid) {
      let fd: number | undefined;
      try {
        fd = openSync(`/proc/${pid}/cmdline`, 'r');
        const buffer = Buffer.allocUnsafe(maxCmdlineBytes);
        let length = 0;
        for (let n = 1; n > 0 && length < buffer.length; length += n) n = readSync(fd, buffer, length, buffer.length - length, null);
        const argv = splitNulSeparated(buffer.subarray(0, length));
        // A reused pid or an exec since would show another argv; only a longer one is more of ours.
        return length > maxBpftraceStringLength ? argv : undefined;
      } catch {
        return undefined;
      } finally {
        if (fd !== undefined) closeSync(fd);
      }
    },
  };
}

interface SuperviseInput {
  bpftrace: string;
  args: string[];
  script: string;
  format: BpftraceLineFormat;
  settings: Settings;
  context: SensorContext;
  now: () => number;
}

interface RunResult {
  attached: boolean;
  attachedForMs: number;
  exit: string;
  stderr: string[];
}

async function supervise(input: SuperviseInput): Promise<void> {
  const { settings, context } = input;
  const { signal, onStatus } = context;
  let everAttached = false;
  let startFailures = 0; // in a row, never attached
  let backoff = 0; // grows while bpftrace keeps dying soon after starting
  let previousExit: RunResult | undefined;
  const malformed = malformedReporter(onStatus);

  while (!signal.aborted) {
    const result = await runOnce(input, malformed, (pid, probes) => {
      if (!everAttached) onStatus({ kind: 'started', message: `bpftrace attached ${probes} probes (pid ${pid})` });
      else onStatus({ kind: 'restarted', message: `bpftrace restarted (pid ${pid}, ${probes} probes) after it ${previousExit?.exit}${stderrSummary(previousExit?.stderr ?? [])}` });
      everAttached = true;
    });
    if (signal.aborted) break;
    previousExit = result;
    if (!result.attached) {
      startFailures += 1;
      backoff += 1;
      if (!everAttached || startFailures >= settings.maxStartFailures) {
        const message = everAttached
          ? `bpftrace failed to start ${startFailures} times in a row; giving up. Last time it ${result.exit}${stderrSummary(result.stderr)}`
          : `bpftrace could not start: it ${result.exit}${stderrSummary(result.stderr)}`;
        onStatus({ kind: 'failed', message });
        throw new NomineError('unsupported', message, 'sensor ebpf');
      }
    } else {
      startFailures = 0;
      backoff = result.attachedForMs >= settings.stableAfterMs ? 1 : backoff + 1;
    }
    const delay = Math.min(settings.restartDelayMs.max, settings.restartDelayMs.initial * 2 ** Math.max(0, backoff - 1));
    onStatus({ kind: 'warning', message: `bpftrace ${result.exit}${stderrSummary(result.stderr)}; restarting in ${delay} ms` });
    await sleep(delay, signal);
  }
  onStatus({ kind: 'stopped', message: 'bpftrace stopped' });
}

function runOnce(input: SuperviseInput, onMalformed: (reason: string) => void, onAttached: (pid: number, probes: number) => void): Promise<RunResult> {
  const { settings, context, format, now } = input;
  const { signal, sink, onStatus } = context;
  const [command, args] = withParentDeathSignal(input.bpftrace, input.args);
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: {
        ...process.env,
        BPFTRACE_STRLEN: String(maxBpftraceStringLength),
        BPFTRACE_PERF_RB_PAGES: String(settings.perfRingPages),
        BPFTRACE_MAP_KEYS_MAX: String(settings.mapKeysMax),
      },
    });
    liveChildren.add(child);
    // bpftrace reads the whole script before it starts; a failed write shows up as its exit.
    child.stdin.on('error', () => undefined);
    child.stdin.end(input.script);
    installExitHook();
    let attachedAt: number | undefined;
    let spawnError: Error | undefined;
    let timedOut = false;
    let sinkFailed = false;
    const stderr: string[] = [];

    const deliver = (event: RawEvent) => {
      try {
        sink(event);
      } catch (error) {
        if (!sinkFailed) onStatus({ kind: 'warning', message: `the event sink threw (${(error as Error).message}); events it refused are dropped` });
        sinkFailed = true;
      }
    };
    const reader = new BpftraceOutputReader(format, {
      event: deliver,
      status: onStatus,
      ready: (probes) => {
        if (attachedAt !== undefined) return;
        attachedAt = Date.now();
        clearTimeout(attachTimer);
        onAttached(child.pid ?? 0, probes);
      },
      malformed: onMalformed,
    });
    const stdoutLines = createInterface({ input: child.stdout, crlfDelay: Infinity });
    stdoutLines.on('line', (line) => reader.push(line, now()));
    const stderrLines = createInterface({ input: child.stderr, crlfDelay: Infinity });
    stderrLines.on('line', (line) => {
      if (memlockWarning.test(line) || line.trim() === '') return;
      stderr.push(line);
      if (stderr.length > keptStderrLines) stderr.shift();
    });

    const attachTimer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, settings.attachTimeoutMs);
    let killTimer: NodeJS.Timeout | undefined;
    const stop = () => {
      child.kill('SIGTERM'); // bpftrace detaches and exits on SIGTERM as on SIGINT
      killTimer = setTimeout(() => child.kill('SIGKILL'), stopGraceMs);
    };
    signal.addEventListener('abort', stop, { once: true });

    child.on('error', (error) => (spawnError = error));
    child.on('close', (code, exitSignal) => {
      clearTimeout(attachTimer);
      clearTimeout(killTimer);
      signal.removeEventListener('abort', stop);
      liveChildren.delete(child);
      reader.end();
      const exit = spawnError
        ? `could not be run (${spawnError.message})`
        : timedOut
          ? `did not attach its probes within ${settings.attachTimeoutMs} ms`
          : exitSignal
            ? `was killed by ${exitSignal}`
            : `exited with code ${code}`;
      resolve({ attached: attachedAt !== undefined, attachedForMs: attachedAt === undefined ? 0 : Date.now() - attachedAt, exit, stderr });
    });
  });
}

/**
 * setpriv (util-linux) sets PR_SET_PDEATHSIG and execs bpftrace in place, so the kernel kills bpftrace when the
 * agent dies by a signal — the case no 'exit' handler sees.
 */
function withParentDeathSignal(command: string, args: string[]): [string, string[]] {
  const setpriv = findOnPath('setpriv');
  return setpriv ? [setpriv, ['--pdeathsig', 'KILL', '--', command, ...args]] : [command, args];
}

let setprivPath: string | null | undefined;
function findOnPath(name: string): string | undefined {
  if (setprivPath === undefined) {
    setprivPath = null;
    for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(delimiter)) {
      if (dir && existsSync(join(dir, name))) {
        setprivPath = join(dir, name);
        break;
      }
    }
  }
  return setprivPath ?? undefined;
}

const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of liveChildren) child.kill('SIGKILL');
  });
}

/** Says so on the 1st, 10th, 100th, … unreadable line: visible, but never a flood. */
function malformedReporter(onStatus: (status: SensorStatus) => void): (reason: string) => void {
  let count = 0;
  let next = 1;
  return (reason) => {
    count += 1;
    if (count < next) return;
    next *= 10;
    onStatus({ kind: 'warning', message: `bpftrace output: ${count} unreadable line${count === 1 ? '' : 's'} so far (latest: ${reason})` });
  };
}

function stderrSummary(lines: string[]): string {
  return lines.length === 0 ? '' : `; its last stderr lines: ${lines.join(' | ')}`;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
