/**
 * Learning: grows a profile from the events of its workload. Pure — time comes in as `now`. It reports `changed`
 * only for behaviour the profile did not have (a new executable, destination, port, write location, syscall, or
 * CPU use beyond the envelope), which restarts the quiet period; a CPU sample inside the envelope still refines
 * the histogram but is not news. Whatever poisoning says is malicious is never learned.
 */
import type { EventOf, RuntimeEvent } from '../agent/event.ts';
import { enclosingRange, formatRange, isSingleAddress, parseAddress, parseRange, rangeContains } from './address-range.ts';
import { addSample, envelopeThreshold } from './cpu-envelope.ts';
import { collapsePatterns, defaultCollapseOptions, generalisePath, matchesPattern, type CollapseOptions } from './generalise-path.ts';
import type { PoisoningVerdict } from './poisoning.ts';
import type { Allowances, EgressAllowance, Profile } from './profile.ts';

export interface LearnOptions {
  /** More distinct addresses than this in one /24 (IPv4) or /64 (IPv6), on one port, learn the whole block. */
  egressCidrAfter: number;
  collapse: CollapseOptions;
}

export const defaultLearnOptions: LearnOptions = { egressCidrAfter: 4, collapse: defaultCollapseOptions };

/**
 * Bounds on what one profile holds. Past them learning stops adding (and the profile's judge reports what was
 * not learned), so a workload that runs a new executable every second cannot grow its profile without end.
 */
export const profileLimits = {
  processes: 512,
  digestsPerExecutable: 16,
  parentsPerExecutable: 16,
  egress: 512,
  listen: 256,
  fileWrites: 512,
  syscalls: 512,
} as const;

export interface LearnResult {
  /** The same object when nothing was recorded; otherwise a new profile with `revision` bumped. */
  profile: Profile;
  /** New behaviour was learned: the quiet period starts again. */
  changed: boolean;
}

const ipv4Block = 24;
const ipv6Block = 64;
const syscallName = /^[a-z0-9_]{1,64}$/;

/** Learning happens in the learning phase, and always in `learn` mode, which only ever learns. */
export function isLearning(profile: Profile): boolean {
  return profile.phase === 'learning' || profile.mode === 'learn';
}

/** Does an egress allowance cover this destination? Addresses compare as numbers, so spellings do not matter. */
export function egressCovers(entry: EgressAllowance, address: string, port: number, protocol: string): boolean {
  if (entry.port !== port || entry.protocol !== protocol) return false;
  const range = parseRange(entry.address);
  const parsed = parseAddress(address);
  if (range && parsed) return rangeContains(range, parsed);
  return entry.address === address;
}

function learnExec(allow: Allowances, event: EventOf<'exec'>, now: number): Allowances | undefined {
  const index = allow.processes.findIndex((entry) => entry.exe === event.exe);
  if (index < 0) {
    if (allow.processes.length >= profileLimits.processes) return undefined;
    const entry = { exe: event.exe, sha256: event.sha256 ? [event.sha256] : [], parents: event.parentExe ? [event.parentExe] : [], source: 'learned' as const, firstSeen: now };
    return { ...allow, processes: [...allow.processes, entry] };
  }
  const entry = allow.processes[index]!;
  const newDigest = event.sha256 && !entry.sha256.includes(event.sha256) && entry.sha256.length < profileLimits.digestsPerExecutable;
  const newParent = event.parentExe && !entry.parents.includes(event.parentExe) && entry.parents.length < profileLimits.parentsPerExecutable;
  if (!newDigest && !newParent) return undefined;
  const updated = {
    ...entry,
    sha256: newDigest ? [...entry.sha256, event.sha256!] : entry.sha256,
    parents: newParent ? [...entry.parents, event.parentExe!] : entry.parents,
  };
  return { ...allow, processes: allow.processes.map((item, at) => (at === index ? updated : item)) };
}

/** Adds a destination; many hosts of one block on one port become the block (a client of a replicated service). */
function learnConnect(allow: Allowances, event: EventOf<'connect'>, now: number, options: LearnOptions): Allowances | undefined {
  if (allow.egress.some((entry) => egressCovers(entry, event.address, event.port, event.protocol))) return undefined;
  if (allow.egress.length >= profileLimits.egress) return undefined;
  const parsed = parseAddress(event.address);
  const address = parsed ? formatRange(enclosingRange(parsed, 128)) : event.address;
  let egress = [...allow.egress, { address, port: event.port, protocol: event.protocol, source: 'learned' as const, firstSeen: now }];
  if (parsed) {
    const block = enclosingRange(parsed, parsed.family === 4 ? ipv4Block : ipv6Block);
    const siblings = egress.filter((entry) => {
      if (entry.port !== event.port || entry.protocol !== event.protocol || entry.source !== 'learned') return false;
      const range = parseRange(entry.address);
      return range !== undefined && isSingleAddress(range) && rangeContains(block, { family: range.family, value: range.base });
    });
    if (siblings.length > options.egressCidrAfter) {
      const firstSeen = Math.min(...siblings.map((entry) => entry.firstSeen));
      egress = egress.filter((entry) => !siblings.includes(entry));
      egress.push({ address: formatRange(block), port: event.port, protocol: event.protocol, source: 'learned', firstSeen });
    }
  }
  return { ...allow, egress };
}

function learnListen(allow: Allowances, port: number | undefined, protocol: EventOf<'listen'>['protocol'], now: number): Allowances | undefined {
  if (port === undefined || allow.listen.some((entry) => entry.port === port && entry.protocol === protocol)) return undefined;
  if (allow.listen.length >= profileLimits.listen) return undefined;
  return { ...allow, listen: [...allow.listen, { port, protocol, source: 'learned', firstSeen: now }] };
}

function learnFileWrite(allow: Allowances, path: string, now: number, options: LearnOptions): Allowances | undefined {
  if (path === '' || allow.fileWrites.some((entry) => matchesPattern(path, entry.pattern))) return undefined;
  if (allow.fileWrites.length >= profileLimits.fileWrites) return undefined;
  const pattern = generalisePath(path);
  const patterns = collapsePatterns([...allow.fileWrites.map((entry) => entry.pattern), pattern], options.collapse);
  const byPattern = new Map(allow.fileWrites.map((entry) => [entry.pattern, entry]));
  const fileWrites = patterns.map((item) => byPattern.get(item) ?? { pattern: item, source: 'learned' as const, firstSeen: now });
  return { ...allow, fileWrites };
}

function learnSyscalls(allow: Allowances, counts: Record<string, number>): Allowances | undefined {
  const known = new Set(allow.syscalls ?? []);
  const fresh = Object.entries(counts)
    .filter(([name, count]) => syscallName.test(name) && typeof count === 'number' && count > 0 && !known.has(name))
    .map(([name]) => name);
  // A syscalls event is the sensor saying it sees syscalls: even an empty first one turns syscall judging on.
  if (fresh.length === 0 && allow.syscalls !== undefined) return undefined;
  const room = Math.max(0, profileLimits.syscalls - known.size);
  return { ...allow, syscalls: [...known, ...fresh.slice(0, room)].sort() };
}

function withAllowances(profile: Profile, allow: Allowances, now: number, changed: boolean): LearnResult {
  const profileOut: Profile = { ...profile, allow, revision: profile.revision + 1, ...(changed ? { lastNewBehaviourAt: now } : {}) };
  return { profile: profileOut, changed };
}

/**
 * Learns one event. `verdict` is the poisoning verdict on the same event (from `poisoningVerdict`); when there is
 * one, nothing is learned. Outside the learning phase (and not in `learn` mode) nothing is learned either.
 */
export function learn(profile: Profile, event: RuntimeEvent, now: number, verdict?: PoisoningVerdict, options: LearnOptions = defaultLearnOptions): LearnResult {
  const unchanged = { profile, changed: false };
  if (verdict || !isLearning(profile)) return unchanged;
  const allow = profile.allow;
  let next: Allowances | undefined;
  switch (event.type) {
    case 'exec':
      next = learnExec(allow, event, now);
      break;
    case 'connect':
      next = learnConnect(allow, event as EventOf<'connect'>, now, options); // ConnectBody's type is a union
      break;
    case 'listen':
      next = learnListen(allow, event.port, event.protocol, now);
      break;
    case 'accept':
      // An accepted connection proves a listening port even when the listen itself was missed (started earlier).
      next = learnListen(allow, event.localPort, event.protocol, now);
      break;
    case 'file-write':
      next = learnFileWrite(allow, event.path, now, options);
      break;
    case 'syscalls':
      next = learnSyscalls(allow, event.counts);
      break;
    case 'cpu-sample': {
      const cpu = addSample(allow.cpu, event.cores);
      if (cpu === allow.cpu) return unchanged;
      // Use the detector would flag is new behaviour; use inside the envelope only refines it.
      const isNew = event.cores > envelopeThreshold(allow.cpu);
      return withAllowances(profile, { ...allow, cpu }, now, isNew);
    }
    case 'exit':
      return unchanged;
  }
  return next ? withAllowances(profile, next, now, true) : unchanged;
}
