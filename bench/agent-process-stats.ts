/**
 * What the runtime benchmarks measure about processes and containers, read from the kernel rather than asked of
 * the processes: CPU time (utime + stime of /proc/PID/stat), resident memory (VmRSS of /proc/PID/status), a
 * process's children by name (the agent's bpftrace), other tracers running on the node (noise worth reporting), a
 * container's CPU time from its cgroup (v1 cpuacct or v2 cpu.stat), and quantiles of samples. Also what both
 * runtime benchmarks need of the node before and around a run: root and the tools, and the machine they report.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';

/** Kernel clock ticks per second for /proc/PID/stat times (`getconf CLK_TCK`; 100 on every Linux/x86_64 build). */
const clockTicks = 100;

interface ProcStat {
  pid: number;
  comm: string;
  ppid: number;
  cpuSeconds: number;
}

function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // comm is in parentheses and may itself hold spaces and parentheses: the fields start after the last ')'.
  const close = text.lastIndexOf(')');
  const fields = text.slice(close + 2).split(' ');
  // fields[0] is field 3 (state): ppid is field 4, utime 14, stime 15.
  return { pid, comm: text.slice(text.indexOf('(') + 1, close), ppid: Number(fields[1]), cpuSeconds: (Number(fields[11]) + Number(fields[12])) / clockTicks };
}

/** CPU seconds (user + system) the process has used; 0 once it is gone. */
export function cpuSecondsOf(pid: number): number {
  return readStat(pid)?.cpuSeconds ?? 0;
}

/** Resident set size in bytes; 0 once the process is gone. */
export function rssBytesOf(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

function allProcesses(): ProcStat[] {
  const stats: ProcStat[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readStat(Number(name));
    if (stat) stats.push(stat);
  }
  return stats;
}

/** Pids of `parent`'s children whose comm is `comm`. */
export function childrenNamed(parent: number, comm: string): number[] {
  return allProcesses().filter((p) => p.ppid === parent && p.comm === comm).map((p) => p.pid);
}

/** Descendants of `root` (children, grandchildren, …). */
export function descendantsOf(root: number): number[] {
  const all = allProcesses();
  const found: number[] = [];
  let frontier = [root];
  while (frontier.length) {
    const next = all.filter((p) => frontier.includes(p.ppid)).map((p) => p.pid);
    found.push(...next);
    frontier = next;
  }
  return found;
}

/** Tracers on the node the bench did not start (other agents' bpftrace): they add kernel work to every traced syscall. */
export function foreignTracers(own: readonly number[]): { pid: number; args: string }[] {
  return allProcesses()
    .filter((p) => p.comm === 'bpftrace' && !own.includes(p.pid))
    .map((p) => {
      let args = '';
      try {
        args = readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
      } catch {
        // gone meanwhile
      }
      return { pid: p.pid, args };
    });
}

/**
 * Waits until no bpftrace but `own` runs (other agents on the node: their kernel work slows every traced syscall,
 * and one in prevent mode may kill the bench's processes), polling every 2 s for at most `maxSeconds`.
 */
export async function waitForQuietNode(own: readonly number[], maxSeconds: number, log: (message: string) => void): Promise<{ waitedSeconds: number; quiet: boolean }> {
  const started = Date.now();
  let said = false;
  for (;;) {
    const others = foreignTracers(own);
    const waited = (Date.now() - started) / 1000;
    if (others.length === 0) return { waitedSeconds: Math.round(waited), quiet: true };
    if (waited >= maxSeconds) {
      log(`the node is still busy after ${Math.round(waited)} s (${others.length} other bpftrace: ${others.map((t) => t.pid).join(', ')}); going on`);
      return { waitedSeconds: Math.round(waited), quiet: false };
    }
    if (!said) log(`waiting up to ${maxSeconds} s for ${others.length} other bpftrace process(es) to end (pids ${others.map((t) => t.pid).join(', ')})`);
    said = true;
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

/** Busy and total CPU time of the whole node in seconds (all cores), from the first line of /proc/stat. */
export function nodeCpuSeconds(): { busy: number; total: number } {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal (guest times are already in user and nice)
    const total = fields.slice(0, 8).reduce((sum, value) => sum + value, 0);
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    return { busy: (total - idle) / clockTicks, total: total / clockTicks };
  } catch {
    return { busy: Number.NaN, total: Number.NaN };
  }
}

/**
 * Cores the rest of the node (everything but this process and `own`) keeps busy, measured over `seconds`; then, while
 * that is above `maxCores`, measures again until `maxWaitSeconds` have passed. Steps measured on a node someone else
 * keeps busy measure the contention, not the agent.
 */
export async function waitForIdleCpu(own: readonly number[], maxCores: number, maxWaitSeconds: number, seconds = 1): Promise<{ otherCores: number; waitedSeconds: number }> {
  const started = Date.now();
  const cores = readdirSync('/sys/devices/system/cpu').filter((name) => /^cpu\d+$/.test(name)).length || 1;
  for (;;) {
    const node0 = nodeCpuSeconds();
    const self0 = process.cpuUsage();
    const own0 = own.reduce((sum, pid) => sum + cpuSecondsOf(pid), 0);
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    const node1 = nodeCpuSeconds();
    const self = process.cpuUsage(self0);
    const ownSeconds = own.reduce((sum, pid) => sum + cpuSecondsOf(pid), 0) - own0 + (self.user + self.system) / 1e6;
    const wall = (node1.total - node0.total) / cores;
    const otherCores = Math.max(0, (node1.busy - node0.busy - ownSeconds) / wall);
    const waitedSeconds = Math.round((Date.now() - started) / 1000);
    if (otherCores <= maxCores || waitedSeconds >= maxWaitSeconds) return { otherCores: round(otherCores, 2), waitedSeconds };
  }
}

/** The 1-minute load average: how busy the node was around a measurement. */
export function loadAverage(): number {
  try {
    return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
  } catch {
    return Number.NaN;
  }
}

/** CPU seconds a Docker container has used, from its cgroup (cgroupfs driver, v1 or v2); undefined when unreadable. */
export function containerCpuSeconds(containerId: string): number | undefined {
  const candidates = [
    `/sys/fs/cgroup/cpuacct/docker/${containerId}/cpuacct.usage`,
    `/sys/fs/cgroup/cpu,cpuacct/docker/${containerId}/cpuacct.usage`,
    `/sys/fs/cgroup/docker/${containerId}/cpu.stat`,
    `/sys/fs/cgroup/system.slice/docker-${containerId}.scope/cpu.stat`,
  ];
  for (const path of candidates) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      continue;
    }
    if (path.endsWith('cpuacct.usage')) return Number(text.trim()) / 1e9;
    const match = /^usage_usec (\d+)/m.exec(text);
    if (match) return Number(match[1]) / 1e6;
  }
  return undefined;
}

/** The q-quantile (0..1) of `values` by nearest rank; NaN when there are none. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

export function round(value: number, digits = 2): number {
  if (!Number.isFinite(value)) return value;
  return Math.round(value * 10 ** digits) / 10 ** digits;
}

/** Throws unless this runs as root (`whyRoot` says why the bench needs it) with bpftrace, gcc and Docker at hand. */
export function requireRootAndTools(bench: string, whyRoot: string): void {
  if (process.getuid?.() !== 0) throw new Error(`${bench} needs root (${whyRoot})`);
  for (const [command, args] of [['bpftrace', ['--version']], ['gcc', ['--version']], ['docker', ['version', '--format', '{{.Server.Version}}']]] as const) {
    try {
      execFileSync(command, [...args], { stdio: 'ignore', timeout: 30_000 });
    } catch {
      throw new Error(`${bench} needs ${command}`);
    }
  }
}

function versionOf(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, { encoding: 'utf8', timeout: 30_000 }).trim().split('\n')[0]!;
  } catch {
    return 'unavailable';
  }
}

/** The machine a runtime benchmark ran on, as its result file reports it. */
export function runtimeMachine(): { cpus: number; cpuModel: string; memoryGb: number; node: string; docker: string; bpftrace: string; kernel: string } {
  const cpuList = cpus();
  return {
    cpus: cpuList.length,
    cpuModel: cpuList[0]?.model ?? 'unknown',
    memoryGb: Math.round(totalmem() / 1024 ** 3),
    node: process.version,
    docker: versionOf('docker', ['version', '--format', '{{.Server.Version}}']),
    bpftrace: versionOf('bpftrace', ['--version']),
    kernel: versionOf('uname', ['-r']),
  };
}
