/**
 * Profile lookups per second for `npm run bench:enforce`: judge() (src/profile/judge.ts) against an enforcing
 * profile learned through learn() from 50 executables, 100 egress destinations and 50 file-write locations (plus
 * the syscalls and CPU samples a workload shows), for the events the agent judges most — allowed execs, connects,
 * file writes and syscall batches, spread over every entry — and for a denied exec. The baseline, in the same run,
 * is the plainest possible allow-list: Set.has on the exact exe, `address:port/protocol` and path strings.
 */
import type { Entity } from '../src/agent/entity.ts';
import type { RuntimeEvent } from '../src/agent/event.ts';
import { judge } from '../src/profile/judge.ts';
import { learn } from '../src/profile/learn.ts';
import { createProfile } from '../src/profile/lifecycle.ts';
import { loadMiningPools, type MiningPools } from '../src/profile/mining-pools.ts';
import type { Profile } from '../src/profile/profile.ts';

export interface LookupKind {
  kind: string;
  judgeOpsPerSecond: number;
  setOpsPerSecond: number;
  /** Set.has lookups per judge() call's time: how much slower judging is than the floor. */
  slowdown: number;
  /** Calls of judge() that said allowed, of `calls`. */
  allowed: number;
  calls: number;
}

export interface LookupResult {
  profile: { processes: number; egress: number; fileWrites: number; syscalls: number };
  secondsPerKind: number;
  kinds: LookupKind[];
  /** Over the mixed stream (execs, connects, writes, syscalls in turn). */
  mixed: LookupKind;
}

const entity: Entity = { id: 'c'.repeat(64), name: 'bench-web-1', runtime: 'docker', image: 'bench/web:1', imageDigest: `sha256:${'d'.repeat(64)}`, labels: {} };
const syscalls = [
  'read', 'write', 'openat', 'close', 'fstat', 'mmap', 'mprotect', 'munmap', 'brk', 'rt_sigaction', 'rt_sigprocmask',
  'ioctl', 'pread64', 'writev', 'access', 'pipe2', 'select', 'sched_yield', 'madvise', 'dup2', 'nanosleep', 'getpid',
  'socket', 'connect', 'accept4', 'sendto', 'recvfrom', 'bind', 'listen', 'getsockname', 'setsockopt', 'clone',
  'execve', 'exit', 'wait4', 'kill', 'uname', 'fcntl', 'getcwd', 'chdir', 'rename', 'mkdir', 'unlink', 'readlink',
  'getuid', 'epoll_wait', 'epoll_ctl', 'epoll_create1', 'futex', 'set_tid_address', 'clock_gettime', 'exit_group',
  'newfstatat', 'prlimit64', 'getrandom', 'statx', 'rseq', 'clock_nanosleep',
];

const exeOf = (i: number) => `/usr/local/bin/svc-${String(i).padStart(2, '0')}`;
const digestOf = (i: number) => i.toString(16).padStart(64, 'a');
// One host in each of 100 different /24 networks, so learning keeps 100 entries (it merges 5+ hosts of one /24).
const addressOf = (i: number) => `10.${20 + (i % 100)}.${i % 7}.${10 + (i % 50)}`;
const portOf = (i: number) => [443, 5432, 6379, 8080, 9092][i % 5]!;
// 50 write locations learning keeps apart: at most 7 files per directory (it collapses 9+ siblings to dir/*), and
// names without digits (it turns numbers into *).
const writeDirs = ['/var/log/app', '/var/lib/app', '/srv/www', '/srv/cache', '/opt/app/data', '/data/db', '/home/app', '/etc/app'];
const writeNames = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf'];
const pathOf = (i: number) => `${writeDirs[Math.floor(i / writeNames.length)]}/${writeNames[i % writeNames.length]}.log`;

function base(type: string, at: number): Pick<RuntimeEvent, 'at' | 'sensor' | 'entityId' | 'pid'> & { type: string } {
  return { type, at, sensor: 'ebpf', entityId: entity.id, pid: 4242 };
}

function execEvent(i: number, at = 0): RuntimeEvent {
  return { ...base('exec', at), type: 'exec', ppid: 1, uid: 0, exe: exeOf(i), argv: [exeOf(i), '--serve'], sha256: digestOf(i), parentExe: '/bin/sh' } as RuntimeEvent;
}
function connectEvent(i: number, at = 0): RuntimeEvent {
  return { ...base('connect', at), type: 'connect', protocol: 'tcp', family: 4, address: addressOf(i), port: portOf(i) } as RuntimeEvent;
}
function writeEvent(i: number, at = 0): RuntimeEvent {
  return { ...base('file-write', at), type: 'file-write', path: pathOf(i), flags: ['O_WRONLY', 'O_CREAT'] } as RuntimeEvent;
}
function syscallsEvent(i: number, at = 0): RuntimeEvent {
  const counts: Record<string, number> = {};
  for (let k = 0; k < 24; k++) counts[syscalls[(i + k) % syscalls.length]!] = 1 + k;
  return { ...base('syscalls', at), type: 'syscalls', counts } as RuntimeEvent;
}

/** The profile as the agent would have learned it, then switched to enforcing in prevent mode. */
export function learnedProfile(): Profile {
  let profile = createProfile(entity, 0, 'prevent');
  const feed = (event: RuntimeEvent) => (profile = learn(profile, event, event.at).profile);
  let at = 1;
  feed({ ...syscallsEvent(0, at++), counts: Object.fromEntries(syscalls.map((name) => [name, 1])) } as RuntimeEvent);
  for (let i = 0; i < 50; i++) feed(execEvent(i, at++));
  for (let i = 0; i < 100; i++) feed(connectEvent(i, at++));
  for (let i = 0; i < 50; i++) feed(writeEvent(i, at++));
  for (let i = 0; i < 40; i++) feed({ ...base('cpu-sample', at++), type: 'cpu-sample', cores: 0.1 + (i % 5) * 0.02, intervalMs: 5000 } as RuntimeEvent);
  return { ...profile, phase: 'enforcing', enforcingSince: at };
}

/** Calls `body` in batches until `seconds` have passed; ops per second over the timed part (after a warm-up). */
function timeLoop(seconds: number, body: (i: number) => boolean): { opsPerSecond: number; allowed: number; calls: number } {
  let allowed = 0;
  for (let i = 0; i < 2000; i++) body(i); // warm-up: let the JIT see the loop
  const batch = 500;
  const limit = BigInt(Math.round(seconds * 1e9));
  const started = process.hrtime.bigint();
  let calls = 0;
  let elapsed = 0n;
  while (elapsed < limit) {
    for (let i = 0; i < batch; i++) if (body(calls + i)) allowed += 1;
    calls += batch;
    elapsed = process.hrtime.bigint() - started;
  }
  return { opsPerSecond: Math.round(calls / (Number(elapsed) / 1e9)), allowed, calls };
}

export async function benchProfileLookups(secondsPerKind = 1, pools?: MiningPools): Promise<LookupResult> {
  const miningPools = pools ?? (await loadMiningPools());
  const profile = learnedProfile();
  const allow = profile.allow;
  // The floor: exact-match sets built from the same entries.
  const exes = new Set(allow.processes.map((p) => p.exe));
  const endpoints = new Set(Array.from({ length: 100 }, (_, i) => `${addressOf(i)}:${portOf(i)}/tcp`));
  const paths = new Set(Array.from({ length: 50 }, (_, i) => pathOf(i)));
  const known = new Set(allow.syscalls ?? []);

  const execs = Array.from({ length: 50 }, (_, i) => execEvent(i));
  const connects = Array.from({ length: 100 }, (_, i) => connectEvent(i));
  const writes = Array.from({ length: 50 }, (_, i) => writeEvent(i));
  const batches = Array.from({ length: 16 }, (_, i) => syscallsEvent(i));
  const denied = Array.from({ length: 50 }, (_, i) => ({ ...execEvent(i), exe: `/tmp/dropped-${i}` }) as RuntimeEvent);

  const judged = (event: RuntimeEvent) => judge(profile, event, {}, miningPools).allowed;
  const kinds: [string, RuntimeEvent[], (event: RuntimeEvent) => boolean][] = [
    ['exec (allowed)', execs, (e) => exes.has((e as { exe: string }).exe)],
    ['connect (allowed)', connects, (e) => {
      const c = e as { address: string; port: number; protocol: string };
      return endpoints.has(`${c.address}:${c.port}/${c.protocol}`);
    }],
    ['file-write (allowed)', writes, (e) => paths.has((e as { path: string }).path)],
    ['syscalls batch of 24 (allowed)', batches, (e) => Object.keys((e as { counts: Record<string, number> }).counts).every((name) => known.has(name))],
    ['exec (denied: builds the deviation)', denied, (e) => exes.has((e as { exe: string }).exe)],
  ];
  const result: LookupKind[] = [];
  for (const [kind, events, floor] of kinds) {
    const j = timeLoop(secondsPerKind, (i) => judged(events[i % events.length]!));
    const s = timeLoop(secondsPerKind, (i) => floor(events[i % events.length]!));
    result.push({ kind, judgeOpsPerSecond: j.opsPerSecond, setOpsPerSecond: s.opsPerSecond, slowdown: Math.round((s.opsPerSecond / j.opsPerSecond) * 10) / 10, allowed: j.allowed, calls: j.calls });
  }
  // The mixed stream, in the proportions of the allowed kinds above, each in turn.
  const mixedEvents = [...execs, ...connects, ...writes, ...batches];
  const mixedFloor = new Map(mixedEvents.map((event) => [event, kinds.find(([, list]) => list.includes(event))![2]]));
  const jm = timeLoop(secondsPerKind, (i) => judged(mixedEvents[i % mixedEvents.length]!));
  const sm = timeLoop(secondsPerKind, (i) => {
    const event = mixedEvents[i % mixedEvents.length]!;
    return mixedFloor.get(event)!(event);
  });
  return {
    profile: { processes: allow.processes.length, egress: allow.egress.length, fileWrites: allow.fileWrites.length, syscalls: allow.syscalls?.length ?? 0 },
    secondsPerKind,
    kinds: result,
    mixed: { kind: 'mixed (exec, connect, file-write, syscalls)', judgeOpsPerSecond: jm.opsPerSecond, setOpsPerSecond: sm.opsPerSecond, slowdown: Math.round((sm.opsPerSecond / jm.opsPerSecond) * 10) / 10, allowed: jm.allowed, calls: jm.calls },
  };
}
