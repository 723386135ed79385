/**
 * Profile diffs: what changed between two versions of a profile — allowances added and removed, mode, phase and
 * CPU envelope — for `nomine profile diff` and the console. Pure.
 */
import { egressText, listenText, shortDigest } from './deviation.ts';
import type { Profile } from './profile.ts';

export interface ListDiff {
  added: string[];
  removed: string[];
}

export interface ProfileDiff {
  fromRevision: number;
  toRevision: number;
  mode?: { from: string; to: string };
  phase?: { from: string; to: string };
  processes: ListDiff;
  /** `exe sha256:ab12…` for digests added to or removed from an executable that both versions know. */
  digests: ListDiff;
  egress: ListDiff;
  listen: ListDiff;
  fileWrites: ListDiff;
  syscalls: ListDiff;
  /** Envelope quantile in cores, when it moved. */
  cpu?: { from: number; to: number };
}

function listDiff(before: readonly string[], after: readonly string[]): ListDiff {
  const a = new Set(before);
  const b = new Set(after);
  return { added: [...b].filter((item) => !a.has(item)).sort(), removed: [...a].filter((item) => !b.has(item)).sort() };
}

function digestsOf(profile: Profile, only: ReadonlySet<string>): string[] {
  return profile.allow.processes.filter((entry) => only.has(entry.exe)).flatMap((entry) => entry.sha256.map((digest) => `${entry.exe} sha256 ${shortDigest(digest)}`));
}

export function diffProfiles(from: Profile, to: Profile): ProfileDiff {
  const fromExes = from.allow.processes.map((entry) => entry.exe);
  const toExes = to.allow.processes.map((entry) => entry.exe);
  const both = new Set(fromExes.filter((exe) => toExes.includes(exe)));
  return {
    fromRevision: from.revision,
    toRevision: to.revision,
    ...(from.mode !== to.mode ? { mode: { from: from.mode, to: to.mode } } : {}),
    ...(from.phase !== to.phase ? { phase: { from: from.phase, to: to.phase } } : {}),
    processes: listDiff(fromExes, toExes),
    digests: listDiff(digestsOf(from, both), digestsOf(to, both)),
    egress: listDiff(from.allow.egress.map(egressText), to.allow.egress.map(egressText)),
    listen: listDiff(from.allow.listen.map(listenText), to.allow.listen.map(listenText)),
    fileWrites: listDiff(from.allow.fileWrites.map((entry) => entry.pattern), to.allow.fileWrites.map((entry) => entry.pattern)),
    syscalls: listDiff(from.allow.syscalls ?? [], to.allow.syscalls ?? []),
    ...(from.allow.cpu.quantileCores !== to.allow.cpu.quantileCores ? { cpu: { from: from.allow.cpu.quantileCores, to: to.allow.cpu.quantileCores } } : {}),
  };
}

const sections = [
  ['processes', 'exec'],
  ['digests', 'digest'],
  ['egress', 'egress'],
  ['listen', 'listen'],
  ['fileWrites', 'write'],
  ['syscalls', 'syscall'],
] as const;

export function isEmptyDiff(diff: ProfileDiff): boolean {
  return !diff.mode && !diff.phase && !diff.cpu && sections.every(([key]) => diff[key].added.length === 0 && diff[key].removed.length === 0);
}

/** Lines for a terminal: `mode alert → prevent`, `+ exec /bin/wget`, `- egress 10.0.0.7:5432/tcp`. */
export function describeDiff(diff: ProfileDiff): string[] {
  const lines: string[] = [];
  if (diff.mode) lines.push(`mode ${diff.mode.from} → ${diff.mode.to}`);
  if (diff.phase) lines.push(`phase ${diff.phase.from} → ${diff.phase.to}`);
  for (const [key, label] of sections) {
    for (const item of diff[key].added) lines.push(`+ ${label} ${item}`);
    for (const item of diff[key].removed) lines.push(`- ${label} ${item}`);
  }
  if (diff.cpu) lines.push(`cpu envelope ${diff.cpu.from} → ${diff.cpu.to} cores`);
  return lines;
}
