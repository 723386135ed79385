/**
 * bpftrace output: turns the lines our script (bpftrace-script.ts) makes bpftrace print into RawEvents and status
 * reports. `parseBpftraceLine` reads one complete line and never throws; `BpftraceOutputReader` is the small fold
 * around it — it joins a printf that a newline in a path split over several lines, pairs the exe line with its exec
 * line, sums the syscall-count batches into one `syscalls` event per mount namespace, and counts what it could not
 * read. Pure: I/O (relative paths, long argv) is done by hooks the caller passes in.
 *
 * The %r escapes: bpftrace prints bytes outside 0x20–0x7e as `\xNN` and everything else as is, backslashes
 * included. So `\xNN` naming a byte outside that range is an escape, and `\x41` can only be literal text; but an
 * argument containing the literal four characters `\x00` reads back as a NUL byte. That ambiguity is accepted.
 */
import { isIP } from 'node:net';
import type { AddressFamily, Protocol, RawEvent } from '../event.ts';
import type { SensorStatus } from '../sensor.ts';
import { lineTags, maxBpftraceStringLength, openFlags, syscallMapName } from './bpftrace-script.ts';

export interface BpftraceLineFormat {
  /** `\t` + the run's nonce: every line of ours ends with it. */
  terminator: string;
  syscallName: (nr: number) => string;
  /** Makes a relative path absolute (`/proc/PID/cwd`, `/proc/PID/fd/DIRFD`); undefined keeps the path as given. */
  resolvePath?: (pid: number, dirFd: number, path: string) => string | undefined;
  /** The whole argv when the kernel side had to cut it at 200 bytes (`/proc/PID/cmdline`); undefined keeps the cut one. */
  readArgv?: (pid: number) => string[] | undefined;
}

export type ParsedStatus =
  /** bpftrace's "Attaching N probes...": printed before it attaches them. */
  | { kind: 'attaching'; probes: number }
  /** Our BEGIN line: every probe is attached, events from now on are seen. */
  | { kind: 'ready' }
  | { kind: 'lost-events'; count: number }
  /** The first of an exec's two lines: the executable's path. */
  | { kind: 'exec-path'; pid: number; exe: string }
  | { kind: 'syscall-count'; mntns: number; nr: number; count: number }
  | { kind: 'syscalls-end' }
  /** A well-formed line this sensor does not report (a protocol other than TCP/UDP). */
  | { kind: 'ignored' }
  | { kind: 'malformed'; reason: string };

export type ParsedLine = RawEvent | ParsedStatus;

/** Bytes one printf may span once joined again (a 200-byte path of newlines plus its fields, with room to spare). */
const maxJoinedLineChars = 4096;
/** Mount namespaces × syscalls one batch may hold; bpftrace's own map bound keeps real output far below. */
const maxSyscallCountsPerBatch = 1_000_000;

const sensor = 'ebpf';

export function parseBpftraceLine(line: string, now: number, format: BpftraceLineFormat): ParsedLine | undefined {
  if (line.length === 0) return undefined;
  if (line.endsWith(format.terminator)) return parseEventLine(line.slice(0, line.length - format.terminator.length), now, format);
  if (line.charCodeAt(0) === 0x40 /* @ */) return parseSyscallCount(line);
  if (line.startsWith('Attaching ')) {
    const probes = parseInteger(line.slice('Attaching '.length, line.indexOf(' ', 'Attaching '.length)));
    return probes === undefined ? malformed('unreadable "Attaching" line') : { kind: 'attaching', probes };
  }
  if (line.startsWith('Lost ') && line.endsWith(' events')) {
    const count = parseInteger(line.slice('Lost '.length, line.length - ' events'.length));
    return count === undefined || count < 0 ? malformed('unreadable "Lost" line') : { kind: 'lost-events', count };
  }
  return malformed(line.length > 2 && line.charCodeAt(1) === 9 && tagSet.has(line[0]!) ? 'event line without its terminator' : 'unknown line');
}

const tagSet = new Set<string>(Object.values(lineTags));

function parseEventLine(body: string, now: number, format: BpftraceLineFormat): ParsedLine {
  if (body.length < 1 || (body.length > 1 && body.charCodeAt(1) !== 9)) return malformed('unknown tag');
  const tag = body[0];
  switch (tag) {
    case lineTags.ready:
      return body.length === 1 ? { kind: 'ready' } : malformed('R line with fields');
    case lineTags.execPath:
      return parseExecPath(body);
    case lineTags.exec:
      return parseExec(body, now, format);
    case lineTags.exit:
      return parseExit(body, now);
    case lineTags.connect:
      return parseConnect(body, now);
    case lineTags.accept:
      return parseAccept(body, now);
    case lineTags.listen:
      return parseListen(body, now);
    case lineTags.fileWrite:
      return parseFileWrite(body, now, format);
    case lineTags.syscallsEnd:
      return body.length === 1 ? { kind: 'syscalls-end' } : malformed('S line with fields');
    default:
      return malformed('unknown tag');
  }
}

function parseExecPath(body: string): ParsedLine {
  const f = splitFields(body, 3);
  const pid = f && parseId(f[1]!);
  if (!f || pid === undefined) return malformed('bad exec path line');
  return { kind: 'exec-path', pid, exe: f[2]! };
}

function parseExec(body: string, now: number, format: BpftraceLineFormat): ParsedLine {
  const f = splitFields(body, 7);
  if (!f) return malformed('exec: wrong field count');
  const pid = parseId(f[1]!);
  const ppid = parseId(f[2]!);
  const uid = parseId(f[3]!);
  const mntns = parseId(f[4]!);
  const pidns = parseId(f[5]!);
  if (pid === undefined || ppid === undefined || uid === undefined || mntns === undefined || pidns === undefined) return malformed('exec: bad number');
  if (f[6]!.includes('\t')) return malformed('exec: extra field');
  const bytes = decodeBpftraceEscapes(f[6]!);
  let argv = splitNulSeparated(bytes);
  // bpftrace cuts buffers at BPFTRACE_STRLEN; a cut argv does not end in NUL.
  if (bytes.length >= maxBpftraceStringLength && bytes[bytes.length - 1] !== 0) argv = format.readArgv?.(pid) ?? argv;
  // exe comes from the exec's first line; the reader fills it in. argv[0] stands in when that line was lost.
  return { type: 'exec', at: now, sensor, pid, ppid, uid, mntns, pidns, exe: argv[0] ?? '', argv };
}

function parseExit(body: string, now: number): ParsedLine {
  const f = splitFields(body, 5);
  if (!f) return malformed('exit: wrong field count');
  const pid = parseId(f[1]!);
  const code = parseInteger(f[2]!);
  const mntns = parseId(f[3]!);
  if (pid === undefined || code === undefined || mntns === undefined) return malformed('exit: bad number');
  return { type: 'exit', at: now, sensor, pid, mntns, comm: f[4]!, exitCode: exitCodeOf(code) };
}

/** The kernel's wait status → a shell-style exit code: the status for a normal exit, 128 + signal for a killed one. */
export function exitCodeOf(kernelCode: number): number {
  const signal = kernelCode & 0x7f;
  return signal === 0 ? (kernelCode >> 8) & 0xff : 128 + signal;
}

function parseConnect(body: string, now: number): ParsedLine {
  const f = splitFields(body, 9);
  if (!f) return malformed('connect: wrong field count');
  const pid = parseId(f[1]!);
  const mntns = parseId(f[2]!);
  const proto = parseInteger(f[3]!);
  const port = parsePort(f[5]!, true);
  const killed = f[6];
  if (pid === undefined || mntns === undefined || proto === undefined || port === undefined || (killed !== '0' && killed !== '1')) return malformed('connect: bad number');
  const protocol = protocolOf(proto);
  if (!protocol) return { kind: 'ignored' };
  const address = addressOf(f[4]!, f[7]!);
  if (!address) return malformed('connect: bad address');
  const event: RawEvent = { type: 'connect', at: now, sensor, pid, mntns, comm: f[8]!, protocol, family: address.family, address: address.address, port };
  if (killed === '1') (event as RawEvent & { killedInKernel?: true }).killedInKernel = true;
  return event;
}

function parseAccept(body: string, now: number): ParsedLine {
  const f = splitFields(body, 9);
  if (!f) return malformed('accept: wrong field count');
  const pid = parseId(f[1]!);
  const mntns = parseId(f[2]!);
  const proto = parseInteger(f[3]!);
  const port = parsePort(f[5]!, true);
  const localPort = parsePort(f[6]!, false);
  if (pid === undefined || mntns === undefined || proto === undefined || port === undefined || localPort === undefined) return malformed('accept: bad number');
  const protocol = protocolOf(proto);
  if (!protocol) return { kind: 'ignored' };
  const address = addressOf(f[4]!, f[7]!);
  if (!address) return malformed('accept: bad address');
  return { type: 'accept', at: now, sensor, pid, mntns, comm: f[8]!, protocol, family: address.family, address: address.address, port, localPort };
}

function parseListen(body: string, now: number): ParsedLine {
  const f = splitFields(body, 8);
  if (!f) return malformed('listen: wrong field count');
  const pid = parseId(f[1]!);
  const mntns = parseId(f[2]!);
  const proto = parseInteger(f[3]!);
  const port = parsePort(f[5]!, false);
  if (pid === undefined || mntns === undefined || proto === undefined || port === undefined) return malformed('listen: bad number');
  const protocol = protocolOf(proto);
  if (!protocol) return { kind: 'ignored' };
  const address = addressOf(f[4]!, f[6]!);
  if (!address) return malformed('listen: bad address');
  return { type: 'listen', at: now, sensor, pid, mntns, comm: f[7]!, protocol, family: address.family, address: address.address, port };
}

function parseFileWrite(body: string, now: number, format: BpftraceLineFormat): ParsedLine {
  const f = splitFields(body, 6);
  if (!f) return malformed('file-write: wrong field count');
  const pid = parseId(f[1]!);
  const mntns = parseId(f[2]!);
  const flags = parseInteger(f[3]!);
  const dirFd = parseInteger(f[4]!);
  if (pid === undefined || mntns === undefined || flags === undefined || dirFd === undefined) return malformed('file-write: bad number');
  let path = f[5]!;
  if (path.length > 0 && path.charCodeAt(0) !== 0x2f /* / */) path = format.resolvePath?.(pid, dirFd | 0, path) ?? path;
  return { type: 'file-write', at: now, sensor, pid, mntns, path, flags: openFlagNames(flags) };
}

const flagEntries = Object.entries(openFlags);

export function openFlagNames(flags: number): string[] {
  const names: string[] = [];
  for (const [name, bit] of flagEntries) if (flags & bit) names.push(name);
  return names;
}

function parseSyscallCount(line: string): ParsedLine {
  // `@nomine_sc[4026531840, 59]: 12`
  if (!line.startsWith(syscallMapName) || line.charCodeAt(syscallMapName.length) !== 0x5b /* [ */) return malformed('unknown map');
  const comma = line.indexOf(', ', syscallMapName.length);
  const close = line.indexOf(']: ', comma);
  if (comma < 0 || close < 0) return malformed('bad syscall count line');
  const mntns = parseId(line.slice(syscallMapName.length + 1, comma));
  const nr = parseInteger(line.slice(comma + 2, close));
  const count = parseInteger(line.slice(close + 3));
  if (mntns === undefined || nr === undefined || count === undefined || count < 0) return malformed('bad syscall count line');
  return { kind: 'syscall-count', mntns, nr, count };
}

function malformed(reason: string): ParsedStatus {
  return { kind: 'malformed', reason };
}

/** `count` fields, the last holding the rest of the line (tabs included), or undefined when there are fewer. */
function splitFields(body: string, count: number): string[] | undefined {
  const fields: string[] = [];
  let start = 0;
  for (let i = 0; i < count - 1; i += 1) {
    const tab = body.indexOf('\t', start);
    if (tab < 0) return undefined;
    fields.push(body.slice(start, tab));
    start = tab + 1;
  }
  fields.push(body.slice(start));
  return fields;
}

/** A decimal integer within the safe range, or undefined; no regex, no exponent or hex forms. */
export function parseInteger(text: string): number | undefined {
  const length = text.length;
  if (length === 0 || length > 16) return undefined;
  let i = text.charCodeAt(0) === 0x2d /* - */ ? 1 : 0;
  if (i === length) return undefined;
  let value = 0;
  for (; i < length; i += 1) {
    const digit = text.charCodeAt(i) - 0x30;
    if (digit < 0 || digit > 9) return undefined;
    value = value * 10 + digit;
  }
  if (!Number.isSafeInteger(value)) return undefined;
  return text.charCodeAt(0) === 0x2d ? -value : value;
}

/** Ids, inodes, uids: non-negative and at most 2^32 - 1. */
function parseId(text: string): number | undefined {
  const value = parseInteger(text);
  return value === undefined || value < 0 || value > 0xffffffff ? undefined : value;
}

function parsePort(text: string, networkOrder: boolean): number | undefined {
  const value = parseInteger(text);
  if (value === undefined || value < 0 || value > 0xffff) return undefined;
  return networkOrder ? ((value & 0xff) << 8) | (value >> 8) : value;
}

function protocolOf(ipProto: number): Protocol | undefined {
  // 262 is IPPROTO_MPTCP: multipath TCP, TCP to everyone outside the host.
  return ipProto === 6 || ipProto === 262 ? 'tcp' : ipProto === 17 ? 'udp' : undefined;
}

/** The printed address, with IPv4-mapped IPv6 (`::ffff:1.2.3.4`, a dual-stack socket) reported as the IPv4 it is. */
function addressOf(familyField: string, address: string): { family: AddressFamily; address: string } | undefined {
  const kind = isIP(address);
  if ((familyField !== '4' && familyField !== '6') || kind === 0 || String(kind) !== familyField) return undefined;
  if (kind === 6 && address.startsWith('::ffff:') && isIP(address.slice(7)) === 4) return { family: 4, address: address.slice(7) };
  return { family: kind as AddressFamily, address };
}

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x61 && code <= 0x66) return code - 0x57;
  if (code >= 0x41 && code <= 0x46) return code - 0x37;
  return -1;
}

/**
 * bpftrace's %r text back to bytes: `\xNN` for a byte outside 0x20–0x7e is that byte; anything else (a bad or
 * printable escape) is literal. Non-ASCII characters, which bpftrace never prints for %r, become `?`.
 */
export function decodeBpftraceEscapes(text: string): Buffer {
  const out = Buffer.allocUnsafe(text.length);
  let n = 0;
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if (code === 0x5c && text.charCodeAt(i + 1) === 0x78 && i + 3 < text.length) {
      const hi = hexValue(text.charCodeAt(i + 2));
      const lo = hexValue(text.charCodeAt(i + 3));
      const byte = hi * 16 + lo;
      if (hi >= 0 && lo >= 0 && (byte < 0x20 || byte > 0x7e)) {
        out[n++] = byte;
        i += 3;
        continue;
      }
    }
    out[n++] = code > 0x7f ? 0x3f : code;
  }
  return out.subarray(0, n);
}

/** NUL-separated strings (argv as the kernel lays it out); the final NUL ends the last one rather than starting another. */
export function splitNulSeparated(bytes: Buffer): string[] {
  const parts: string[] = [];
  let start = 0;
  while (start < bytes.length) {
    let end = bytes.indexOf(0, start);
    if (end < 0) end = bytes.length;
    parts.push(bytes.toString('utf8', start, end));
    start = end + 1;
  }
  return parts;
}

export interface BpftraceOutputStats {
  lines: number;
  events: number;
  malformed: number;
  /** Events bpftrace said the kernel dropped (perf ring full). */
  lostEvents: number;
}

export interface BpftraceOutputHandlers {
  event: (event: RawEvent) => void;
  /** Every probe is attached; `probes` is the count bpftrace announced. */
  ready: (probes: number) => void;
  status: (status: SensorStatus) => void;
  /** Called for every unreadable line; the caller decides how often to say so. */
  malformed?: (reason: string, line: string) => void;
}

/** Reads one bpftrace process's stdout, line by line. Make a new one per process: it holds partial state. */
export class BpftraceOutputReader {
  readonly stats: BpftraceOutputStats = { lines: 0, events: 0, malformed: 0, lostEvents: 0 };
  private pending: string | undefined;
  private pendingExe: { pid: number; exe: string } | undefined;
  private syscalls = new Map<number, Map<number, number>>();
  private syscallKeys = 0;
  private probes = 0;

  constructor(
    private readonly format: BpftraceLineFormat,
    private readonly handlers: BpftraceOutputHandlers,
  ) {}

  push(line: string, now: number): void {
    this.stats.lines += 1;
    const terminator = this.format.terminator;
    if (this.pending !== undefined) {
      // A newline inside a path split a printf: everything up to the terminator belongs to it.
      this.pending += `\n${line}`;
      if (this.pending.length > maxJoinedLineChars) {
        this.pending = undefined;
        this.countMalformed('line split by newlines beyond the join limit', line);
        return;
      }
      if (!line.endsWith(terminator)) return;
      line = this.pending;
      this.pending = undefined;
    } else if (line.length > 1 && line.charCodeAt(1) === 9 && tagSet.has(line[0]!) && !line.endsWith(terminator)) {
      this.pending = line;
      return;
    }
    let parsed: ParsedLine | undefined;
    try {
      parsed = parseBpftraceLine(line, now, this.format);
    } catch (error) {
      // parseBpftraceLine is written not to throw; a hook (resolvePath, readArgv) might.
      parsed = malformed(`parser error: ${(error as Error).message}`);
    }
    if (parsed) this.handle(parsed, line, now);
  }

  /** End of the stream: a pending exe or half a printf cannot be completed any more. */
  end(): void {
    if (this.pending !== undefined) this.countMalformed('stream ended inside a line', this.pending);
    this.pending = undefined;
    this.pendingExe = undefined;
  }

  private handle(parsed: ParsedLine, line: string, now: number): void {
    if ('type' in parsed) {
      if (parsed.type === 'exec') {
        const exe = this.pendingExe;
        this.pendingExe = undefined;
        if (exe && exe.pid === parsed.pid) parsed.exe = exe.exe;
        else this.countMalformed('exec without its path line', line);
      } else if (this.pendingExe) {
        this.pendingExe = undefined;
        this.countMalformed('exec path line without its exec line', line);
      }
      this.stats.events += 1;
      this.handlers.event(parsed);
      return;
    }
    switch (parsed.kind) {
      case 'exec-path':
        if (this.pendingExe) this.countMalformed('exec path line without its exec line', line);
        this.pendingExe = { pid: parsed.pid, exe: parsed.exe };
        return;
      case 'syscall-count':
        return this.addSyscallCount(parsed.mntns, parsed.nr, parsed.count, line);
      case 'syscalls-end':
        return this.flushSyscalls(now);
      case 'attaching':
        this.probes = parsed.probes;
        return;
      case 'ready':
        return this.handlers.ready(this.probes);
      case 'lost-events':
        this.stats.lostEvents += parsed.count;
        return this.handlers.status({ kind: 'lost-events', message: `bpftrace lost ${parsed.count} events (perf ring buffer full)`, count: parsed.count });
      case 'ignored':
        return;
      case 'malformed':
        return this.countMalformed(parsed.reason, line);
    }
  }

  private addSyscallCount(mntns: number, nr: number, count: number, line: string): void {
    let counts = this.syscalls.get(mntns);
    if (!counts) this.syscalls.set(mntns, (counts = new Map()));
    const before = counts.get(nr);
    if (before === undefined) {
      if (this.syscallKeys >= maxSyscallCountsPerBatch) return this.countMalformed('too many syscall counts in one batch', line);
      this.syscallKeys += 1;
    }
    counts.set(nr, (before ?? 0) + count);
  }

  private flushSyscalls(now: number): void {
    for (const [mntns, byNumber] of this.syscalls) {
      const counts: Record<string, number> = {};
      for (const [nr, count] of byNumber) {
        const name = this.format.syscallName(nr);
        counts[name] = (counts[name] ?? 0) + count;
      }
      // No single process: the counts belong to the mount namespace, which attribution maps to the entity.
      this.stats.events += 1;
      this.handlers.event({ type: 'syscalls', at: now, sensor, pid: 0, mntns, counts });
    }
    this.syscalls = new Map();
    this.syscallKeys = 0;
  }

  private countMalformed(reason: string, line: string): void {
    this.stats.malformed += 1;
    this.handlers.malformed?.(reason, line);
  }
}
