/**
 * Parsers of /proc text: pure functions from the bytes the kernel (or anything pretending to be it) wrote to typed
 * values. Every parser tolerates truncated, oversized or garbage input by answering `undefined` or skipping the bad
 * line; none throws. Formats follow proc(5) and the kernel's seq_file writers (net/ipv4/tcp_ipv4.c, udp.c).
 */
import type { AddressFamily, Protocol } from '../event.ts';

/** Fields of /proc/PID/stat the agent uses. Times are in clock ticks (USER_HZ). */
export interface ProcStat {
  pid: number;
  comm: string;
  state: string;
  ppid: number;
  /** PF_* flags (field 9); PF_KTHREAD marks kernel threads. */
  flags: number;
  utime: number;
  stime: number;
  /** CPU time of reaped children (fields 16, 17): a short-lived child's work shows up here once waited for. */
  cutime: number;
  cstime: number;
  /** Ticks after boot the process started (field 22): with the pid, the identity that survives pid reuse. */
  starttime: number;
}

/** PF_KTHREAD from include/linux/sched.h. */
export const kernelThreadFlag = 0x00200000;

/** comm is at most 16 bytes in the kernel; a longer one is not /proc/PID/stat. */
const maxCommChars = 64;

function nonNegativeInteger(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d{1,20}$/.test(text)) return undefined;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : undefined;
}

/**
 * /proc/PID/stat. comm (field 2) is in parentheses and may itself hold spaces and parentheses, so the fields after
 * it are found from the last `)`.
 */
export function parseProcStat(text: string): ProcStat | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 1 || close < open || close - open - 1 > maxCommChars) return undefined;
  const pid = nonNegativeInteger(text.slice(0, open).trim());
  // Fields after comm are single-space separated; walk them instead of splitting (a poll reads thousands of these).
  const fields: (string | undefined)[] = [];
  let at = close + 2;
  for (let n = 3; n <= 22 && at <= text.length; n += 1) {
    let end = text.indexOf(' ', at);
    if (end < 0) end = text.length;
    fields[n] = text.slice(at, end).trimEnd();
    at = end + 1;
  }
  if (text[close + 1] !== ' ') return undefined;
  const field = (n: number) => nonNegativeInteger(fields[n]);
  const state = fields[3];
  const [ppid, flags, utime, stime, cutime, cstime, starttime] = [field(4), field(9), field(14), field(15), field(16), field(17), field(22)];
  if (pid === undefined || state === undefined || !/^[A-Za-z]$/.test(state)) return undefined;
  if (ppid === undefined || flags === undefined || utime === undefined || stime === undefined || starttime === undefined) return undefined;
  if (cutime === undefined || cstime === undefined) return undefined;
  return { pid, comm: text.slice(open + 1, close), state, ppid, flags, utime, stime, cutime, cstime, starttime };
}

/** The real and effective uid from the `Uid:` line of /proc/PID/status. */
export function parseStatusUids(text: string): { uid: number; euid: number } | undefined {
  const match = /^Uid:\s+(\d{1,10})\s+(\d{1,10})\b/m.exec(text);
  if (!match) return undefined;
  const uid = Number(match[1]);
  const euid = Number(match[2]);
  return uid <= 0xffffffff && euid <= 0xffffffff ? { uid, euid } : undefined;
}

/** Arguments kept from one command line; the rest are dropped (the read is bounded in bytes as well). */
export const maxArgvEntries = 1024;

/** /proc/PID/cmdline: NUL-separated arguments. A process that rewrote its title may leave no NULs: one argument then. */
export function parseCmdline(bytes: Buffer | string): string[] {
  const text = typeof bytes === 'string' ? bytes : bytes.toString('utf8');
  if (text.length === 0) return [];
  const parts = text.split('\0');
  if (parts[parts.length - 1] === '') parts.pop();
  return parts.slice(0, maxArgvEntries);
}

/** The readlink of /proc/PID/exe or an fd: the path, and whether the file is gone (deleted, or a memfd). */
export function parseExeLink(link: string): { path: string; deleted: boolean } {
  const suffix = ' (deleted)';
  const isDeleted = link.endsWith(suffix);
  const path = isDeleted ? link.slice(0, -suffix.length) : link;
  // memfd files never had a name on disk; the kernel marks them deleted, but be sure even if that changes.
  return { path, deleted: isDeleted || path.startsWith('/memfd:') };
}

/** The inode of `socket:[12345]`, the link an fd that is a socket reads as. */
export function parseSocketLink(link: string): number | undefined {
  const match = /^socket:\[(\d{1,20})\]$/.exec(link);
  const inode = match ? Number(match[1]) : undefined;
  return inode !== undefined && Number.isSafeInteger(inode) && inode > 0 ? inode : undefined;
}

/** The `flags:` of /proc/PID/fdinfo/FD (octal, as the kernel prints it). */
export function parseFdinfoFlags(text: string): number | undefined {
  const match = /^flags:\s+([0-7]{1,11})$/m.exec(text);
  return match ? Number.parseInt(match[1]!, 8) : undefined;
}

// asm-generic/fcntl.h values (x86, arm64, riscv); alpha, sparc, parisc and mips number some of these differently.
const O_ACCMODE = 0o3;
const O_WRONLY = 0o1;
const O_RDWR = 0o2;
const namedFlags: [number, string][] = [
  [0o100, 'O_CREAT'],
  [0o1000, 'O_TRUNC'],
  [0o2000, 'O_APPEND'],
];

/**
 * The names of the flags that make an open file a write, or undefined when it was opened read-only. The kernel
 * clears O_CREAT and O_TRUNC after open, so fdinfo shows them rarely; they are named when present.
 */
export function writeFlagNames(flags: number): string[] | undefined {
  const mode = flags & O_ACCMODE;
  if (mode !== O_WRONLY && mode !== O_RDWR) return undefined;
  return [mode === O_WRONLY ? 'O_WRONLY' : 'O_RDWR', ...namedFlags.filter(([bit]) => (flags & bit) !== 0).map(([, name]) => name)];
}

/** Socket states of include/net/tcp_states.h the agent reads. UDP uses ESTABLISHED when connected, CLOSE when only bound. */
export const socketStates = { established: 0x01, close: 0x07, listen: 0x0a } as const;

export interface SocketAddress {
  address: string;
  /** 4 for IPv4 and for IPv4-mapped IPv6 (`::ffff:a.b.c.d`), which is an IPv4 peer on a dual-stack socket. */
  family: AddressFamily;
  port: number;
}

export interface SocketEntry {
  protocol: Protocol;
  local: SocketAddress;
  remote: SocketAddress;
  state: number;
  uid: number;
  /** 0 for sockets no file refers to any more (TIME_WAIT, orphans). */
  inode: number;
}

function hexWord(hex: string, littleEndian: boolean): number {
  const value = Number.parseInt(hex, 16);
  if (!littleEndian) return value;
  return (((value & 0xff) << 24) | ((value & 0xff00) << 8) | ((value >>> 8) & 0xff00) | (value >>> 24)) >>> 0;
}

/** RFC 5952 text of eight 16-bit groups: lower case, no leading zeros, the longest run of two or more zero groups as `::`. */
export function formatIpv6(groups: number[]): string {
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < groups.length; ) {
    if (groups[i] !== 0) {
      i += 1;
      continue;
    }
    let j = i;
    while (j < groups.length && groups[j] === 0) j += 1;
    if (j - i > bestLength) [bestStart, bestLength] = [i, j - i];
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/**
 * An address as /proc/net/{tcp,udp}[6] prints it: the in-memory bytes of the address as 32-bit words, each printed
 * as a host-order number (so on little-endian machines every word reads byte-reversed), then `:PORT` in hex.
 */
export function decodeSocketAddress(text: string, littleEndian = true): SocketAddress | undefined {
  const match = /^([0-9A-Fa-f]{8}|[0-9A-Fa-f]{32}):([0-9A-Fa-f]{4})$/.exec(text);
  if (!match) return undefined;
  const hex = match[1]!;
  const port = Number.parseInt(match[2]!, 16);
  const words = (hex.match(/.{8}/g) ?? []).map((w) => hexWord(w, littleEndian));
  if (words.length === 1) return { address: formatIpv4(words[0]!), family: 4, port };
  const [w0, w1, w2, w3] = words as [number, number, number, number];
  if (w0 === 0 && w1 === 0 && w2 === 0xffff) return { address: formatIpv4(w3), family: 4, port };
  const groups = [w0, w1, w2, w3].flatMap((w) => [w >>> 16, w & 0xffff]);
  return { address: formatIpv6(groups), family: 6, port };
}

function formatIpv4(word: number): string {
  return [word >>> 24, (word >>> 16) & 0xff, (word >>> 8) & 0xff, word & 0xff].join('.');
}

/**
 * /proc/net/tcp, tcp6, udp, udp6 (also under /proc/PID/net, which shows that process's network namespace). The
 * header line and any malformed line are skipped.
 */
export function parseSocketTable(text: string, protocol: Protocol, littleEndian = true): SocketEntry[] {
  const entries: SocketEntry[] = [];
  for (const line of text.split('\n')) {
    // sl local rem st tx:rx tr:when retrnsmt uid timeout inode …
    const fields = line.trim().split(/\s+/);
    if (fields.length < 10 || !/^\d+:$/.test(fields[0]!)) continue;
    const local = decodeSocketAddress(fields[1]!, littleEndian);
    const remote = decodeSocketAddress(fields[2]!, littleEndian);
    const state = /^[0-9A-Fa-f]{2}$/.test(fields[3]!) ? Number.parseInt(fields[3]!, 16) : undefined;
    const uid = nonNegativeInteger(fields[7]);
    const inode = nonNegativeInteger(fields[9]);
    if (!local || !remote || state === undefined || uid === undefined || inode === undefined) continue;
    entries.push({ protocol, local, remote, state, uid, inode });
  }
  return entries;
}

export interface CgroupMembership {
  hierarchy: number;
  /** Controllers bound to the hierarchy (`cpu`, `cpuacct`, `name=systemd`); empty for the cgroup v2 line. */
  controllers: string[];
  /** Path relative to the hierarchy's root as seen from the reader's cgroup namespace. */
  path: string;
}

/** /proc/PID/cgroup: `hierarchy-ID:controller-list:path` per line; cgroup v2 is `0::path`. */
export function parseProcCgroup(text: string): CgroupMembership[] {
  const memberships: CgroupMembership[] = [];
  for (const line of text.split('\n')) {
    const match = /^(\d{1,9}):([^:]*):(\/.*)$/.exec(line);
    if (!match) continue;
    memberships.push({ hierarchy: Number(match[1]), controllers: match[2] ? match[2].split(',') : [], path: match[3]! });
  }
  return memberships;
}

export interface MountEntry {
  /** The directory within the file system mounted here (`/` unless a subtree is bind-mounted). */
  root: string;
  mountPoint: string;
  fsType: string;
  superOptions: string[];
}

/** mountinfo escapes space, tab, newline and backslash as three-digit octal. */
function unescapeMountField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}

/** /proc/PID/mountinfo (proc(5)): `id parent maj:min root mountpoint options [optional…] - fstype source superoptions`. */
export function parseMountinfo(text: string): MountEntry[] {
  const mounts: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(' ');
    const separator = fields.indexOf('-', 6);
    if (separator < 0 || fields.length < separator + 4) continue;
    const [root, mountPoint] = [fields[3], fields[4]];
    if (!root?.startsWith('/') || !mountPoint?.startsWith('/')) continue;
    mounts.push({
      root: unescapeMountField(root),
      mountPoint: unescapeMountField(mountPoint),
      fsType: fields[separator + 1]!,
      superOptions: fields[separator + 3]!.split(','),
    });
  }
  return mounts;
}

/** Seconds since boot, from /proc/uptime. */
export function parseUptime(text: string): number | undefined {
  const match = /^(\d{1,12}(?:\.\d{1,9})?)\s/.exec(text);
  return match ? Number(match[1]) : undefined;
}

/**
 * Busy CPU time of the whole machine from the `cpu` line of /proc/stat, in clock ticks: user, nice, system, irq,
 * softirq and steal (guest time is already inside user and nice; idle and iowait are not busy).
 */
export function parseStatBusyTicks(text: string): number | undefined {
  const match = /^cpu +(\d+) (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)(?: (\d+))?/m.exec(text);
  if (!match) return undefined;
  const [user, nice, system, , , irq, softirq, steal] = match.slice(1).map((v) => Number(v ?? 0));
  const busy = user! + nice! + system! + irq! + softirq! + steal!;
  return Number.isSafeInteger(busy) ? busy : undefined;
}
