/**
 * Merging profiles: one workload learned on several nodes, taken as one profile. What was allowed anywhere is
 * allowed (processes, destinations, ports, write locations and syscalls are unions, each entry with its earliest
 * firstSeen and its strongest source); CPU histograms add up, with the quantile recomputed over the sum; the
 * profile enforces once any node enforces, and learning started when the first node started. Where one value has
 * to be picked (mode, image, selector) the last profile given wins, so callers pass them oldest first. Pure, and
 * deterministic: equal inputs give byte-equal JSON, which is how the console tells a merge changed nothing.
 */
import { sumEnvelopes } from './cpu-envelope.ts';
import { patternCovers } from './generalise-path.ts';
import { egressCovers, profileLimits } from './learn.ts';
import type { AllowanceSource, Allowances, EgressAllowance, FileWriteAllowance, ListenAllowance, ProcessAllowance, Profile } from './profile.ts';

const sourceStrength: Record<AllowanceSource, number> = { learned: 0, image: 1, approved: 2 };

function strongest(a: AllowanceSource, b: AllowanceSource): AllowanceSource {
  return sourceStrength[b] > sourceStrength[a] ? b : a;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Oldest first (ties by key), then cut to `limit`: a profile past its bound keeps what it learned first. */
function capped<T extends { firstSeen: number }>(entries: Iterable<T>, keyOf: (entry: T) => string, limit: number): T[] {
  return [...entries].sort((a, b) => a.firstSeen - b.firstSeen || compareText(keyOf(a), keyOf(b))).slice(0, limit);
}

function sortedUnion(lists: Iterable<readonly string[]>, limit: number): string[] {
  const all = new Set<string>();
  for (const list of lists) for (const item of list) all.add(item);
  return [...all].sort(compareText).slice(0, limit);
}

/** Keyed union: the first entry of a key is copied, later ones fold into it with `fold`. */
function unionBy<T>(lists: Iterable<readonly T[]>, keyOf: (entry: T) => string, copy: (entry: T) => T, fold: (into: T, entry: T) => void): Map<string, T> {
  const byKey = new Map<string, T>();
  for (const list of lists) {
    for (const entry of list) {
      const key = keyOf(entry);
      const known = byKey.get(key);
      if (known) fold(known, entry);
      else byKey.set(key, copy(entry));
    }
  }
  return byKey;
}

function foldOrigin(into: { source: AllowanceSource; firstSeen: number }, entry: { source: AllowanceSource; firstSeen: number }): void {
  into.source = strongest(into.source, entry.source);
  into.firstSeen = Math.min(into.firstSeen, entry.firstSeen);
}

function mergeProcesses(lists: ProcessAllowance[][]): ProcessAllowance[] {
  const digests = new Map<string, string[][]>();
  const parents = new Map<string, string[][]>();
  const byExe = unionBy(
    lists,
    (entry) => entry.exe,
    (entry) => ({ ...entry }),
    foldOrigin,
  );
  for (const list of lists) {
    for (const entry of list) {
      (digests.get(entry.exe) ?? digests.set(entry.exe, []).get(entry.exe)!).push(entry.sha256);
      (parents.get(entry.exe) ?? parents.set(entry.exe, []).get(entry.exe)!).push(entry.parents);
    }
  }
  for (const [exe, entry] of byExe) {
    entry.sha256 = sortedUnion(digests.get(exe)!, profileLimits.digestsPerExecutable);
    entry.parents = sortedUnion(parents.get(exe)!, profileLimits.parentsPerExecutable);
  }
  return capped(byExe.values(), (entry) => entry.exe, profileLimits.processes).map(({ exe, sha256, parents: by, source, firstSeen }) => ({ exe, sha256, parents: by, source, firstSeen }));
}

function egressKey(entry: EgressAllowance): string {
  return `${entry.address}|${entry.port}|${entry.protocol}`;
}

function mergeEgress(lists: EgressAllowance[][]): EgressAllowance[] {
  const byKey = unionBy(lists, egressKey, (entry) => ({ ...entry }), foldOrigin);
  // One node may have widened addresses to a block another node still lists one by one: the block covers them.
  const ranges = [...byKey.values()].filter((entry) => entry.address.includes('/'));
  for (const [key, entry] of byKey) {
    const cover = ranges.find((range) => range !== entry && egressCovers(range, entry.address, entry.port, entry.protocol));
    if (!cover) continue;
    foldOrigin(cover, entry);
    byKey.delete(key);
  }
  return capped(byKey.values(), egressKey, profileLimits.egress).map(({ address, port, protocol, source, firstSeen }) => ({ address, port, protocol, source, firstSeen }));
}

function mergeListen(lists: ListenAllowance[][]): ListenAllowance[] {
  const key = (entry: ListenAllowance) => `${entry.port}|${entry.protocol}`;
  const byKey = unionBy(lists, key, (entry) => ({ ...entry }), foldOrigin);
  return capped(byKey.values(), key, profileLimits.listen).map(({ port, protocol, source, firstSeen }) => ({ port, protocol, source, firstSeen }));
}

function mergeFileWrites(lists: FileWriteAllowance[][]): FileWriteAllowance[] {
  const byPattern = unionBy(lists, (entry) => entry.pattern, (entry) => ({ ...entry }), foldOrigin);
  // A path one node still lists is covered by the directory pattern another node collapsed it into.
  const entries = [...byPattern.values()];
  const kept = entries.filter((entry) => {
    const cover = entries.find((other) => other !== entry && other.pattern !== entry.pattern && patternCovers(other.pattern, entry.pattern));
    if (cover) foldOrigin(cover, entry);
    return !cover;
  });
  return capped(kept, (entry) => entry.pattern, profileLimits.fileWrites).map(({ pattern, source, firstSeen }) => ({ pattern, source, firstSeen }));
}

/** The union of several profiles' allowances; syscalls stay undefined only when no profile has any syscall data. */
export function mergeAllowances(allowances: readonly Allowances[]): Allowances {
  const withSyscalls = allowances.filter((allow) => allow.syscalls !== undefined);
  return {
    processes: mergeProcesses(allowances.map((allow) => allow.processes)),
    egress: mergeEgress(allowances.map((allow) => allow.egress)),
    listen: mergeListen(allowances.map((allow) => allow.listen)),
    fileWrites: mergeFileWrites(allowances.map((allow) => allow.fileWrites)),
    ...(withSyscalls.length > 0 ? { syscalls: sortedUnion(withSyscalls.map((allow) => allow.syscalls!), profileLimits.syscalls) } : {}),
    cpu: sumEnvelopes(allowances.map((allow) => allow.cpu)),
  };
}

/** One profile of several of the same workload (same id), oldest first. Throws on an empty list or mixed ids. */
export function mergeProfiles(profiles: readonly Profile[]): Profile {
  const last = profiles.at(-1);
  if (!last) throw new Error('mergeProfiles needs at least one profile');
  const strangers = profiles.filter((profile) => profile.id !== last.id);
  if (strangers.length > 0) throw new Error(`cannot merge profile ${strangers[0]!.id} into ${last.id}`);
  const enforcing = profiles.filter((profile) => profile.phase === 'enforcing');
  const enforcingSince = enforcing.flatMap((profile) => (profile.enforcingSince === undefined ? [] : [profile.enforcingSince]));
  const image = profiles.findLast((profile) => profile.image !== undefined)?.image;
  const kubernetes = profiles.findLast((profile) => profile.kubernetes !== undefined)?.kubernetes;
  return {
    id: last.id,
    key: { imageDigest: last.key.imageDigest, workload: last.key.workload },
    ...(image !== undefined ? { image } : {}),
    mode: last.mode,
    phase: enforcing.length > 0 ? 'enforcing' : 'learning',
    learningStartedAt: Math.min(...profiles.map((profile) => profile.learningStartedAt)),
    lastNewBehaviourAt: Math.max(...profiles.map((profile) => profile.lastNewBehaviourAt)),
    ...(enforcingSince.length > 0 ? { enforcingSince: Math.min(...enforcingSince) } : {}),
    selector: { ...last.selector },
    ...(kubernetes !== undefined ? { kubernetes: { ...kubernetes } } : {}),
    allow: mergeAllowances(profiles.map((profile) => profile.allow)),
    revision: Math.max(...profiles.map((profile) => profile.revision)),
  };
}
