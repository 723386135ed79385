/**
 * `nomine profile`: the learned profiles in $NOMINE_HOME's store. list, show (what was learned, and when), approve
 * (enforce now), relearn, set-mode, diff (between revisions), export (as seccomp, NetworkPolicy, AppArmor, KubeArmor,
 * Tetragon or Falco policy). A running agent picks changes up within a second.
 */
import Table from 'cli-table3';
import { Command, InvalidArgumentError, Option } from 'commander';
import { NomineError } from '../../core/errors.ts';
import { ensureDataHome, resolveDataHome } from '../../platform/data-home.ts';
import { approve, relearn, setMode, formatDuration } from '../../profile/lifecycle.ts';
import { enforcementModes, type Profile } from '../../profile/profile.ts';
import { ProfileStore, type ProfileSummary } from '../../profile/profile-store.ts';
import type { ProfileDiff } from '../../profile/profile-diff.ts';
import { openStore } from '../../store/open-store.ts';
import { exportCommand } from './profile-export.ts';

export async function withProfileStore<T>(use: (store: ProfileStore) => Promise<T>): Promise<T> {
  const db = await openStore(ensureDataHome(resolveDataHome()));
  try {
    return await use(new ProfileStore(db));
  } finally {
    await db.destroy();
  }
}

/** A profile named by id (`wl-…`), by workload (`container:web`), or by a part of the workload that matches one. */
export async function resolveProfile(store: ProfileStore, name: string): Promise<ProfileSummary> {
  const all = await store.list();
  const exact = all.filter((summary) => summary.id === name || summary.key.workload === name);
  if (exact.length === 1) return exact[0]!;
  const partial = exact.length > 1 ? exact : all.filter((summary) => summary.key.workload.includes(name) || summary.id.startsWith(name));
  // Several images of one workload: the newest profile is the live one.
  const workloads = new Set(partial.map((summary) => summary.key.workload));
  if (partial.length >= 1 && workloads.size === 1) return partial.sort((a, b) => b.learningStartedAt - a.learningStartedAt)[0]!;
  if (partial.length === 0) throw new NomineError('not-found', `no profile matches "${name}"; \`nomine profile list\` shows them`, 'profile');
  throw new NomineError('invalid-input', `"${name}" matches ${partial.length} profiles (${partial.slice(0, 5).map((p) => `${p.id} ${p.key.workload}`).join(', ')}); name one by id`, 'profile');
}

const when = (at: number | undefined) => (at ? new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z') : '');

function listCommand(): Command {
  return new Command('list')
    .description('every learned profile: workload, image, mode, phase, and what it holds')
    .option('--json', 'print JSON')
    .action(async (flags: { json?: boolean }) => {
      const profiles = await withProfileStore((store) => store.list());
      if (flags.json) return void process.stdout.write(`${JSON.stringify(profiles, null, 2)}\n`);
      const table = new Table({ head: ['id', 'workload', 'image', 'mode', 'phase', 'since', 'exe', 'egress', 'listen', 'writes', 'syscalls'], style: process.stdout.isTTY ? { head: ['bold'] } : { head: [], border: [] } });
      for (const p of profiles) {
        table.push([p.id, p.key.workload, p.image ?? p.key.imageDigest.slice(0, 19), p.mode, p.phase, when(p.phase === 'enforcing' ? p.enforcingSince : p.learningStartedAt), p.counts.processes, p.counts.egress, p.counts.listen, p.counts.fileWrites, p.counts.syscalls ?? '-']);
      }
      process.stdout.write(`${table.toString()}\n${profiles.length === 0 ? 'no profiles yet: `nomine agent run` learns them\n' : ''}`);
    });
}

export function renderProfile(profile: Profile, history: { at: number; kind: string; detail: string }[]): string {
  const { allow } = profile;
  const lines = [
    `${profile.id}  ${profile.key.workload}`,
    `image ${profile.image ?? ''} ${profile.key.imageDigest}`,
    `mode ${profile.mode}, ${profile.phase}${profile.phase === 'enforcing' ? ` since ${when(profile.enforcingSince)}` : ` since ${when(profile.learningStartedAt)}`}, revision ${profile.revision}`,
    '',
    `executables (${allow.processes.length}):`,
    ...allow.processes.map((p) => `  ${p.exe}  ${p.sha256.map((d) => d.slice(0, 12)).join(',')}  parents ${p.parents.join(',') || '-'}  ${p.source} ${when(p.firstSeen)}`),
    `egress (${allow.egress.length}):`,
    ...allow.egress.map((e) => `  ${e.protocol} ${e.address}:${e.port}  ${e.source} ${when(e.firstSeen)}`),
    `listening (${allow.listen.length}):`,
    ...allow.listen.map((l) => `  ${l.protocol} :${l.port}  ${l.source} ${when(l.firstSeen)}`),
    `file writes (${allow.fileWrites.length}):`,
    ...allow.fileWrites.map((f) => `  ${f.pattern}  ${f.source} ${when(f.firstSeen)}`),
    `syscalls: ${allow.syscalls ? `${allow.syscalls.length}: ${allow.syscalls.join(' ')}` : 'none recorded (the sensor gives no syscall data)'}`,
    `cpu envelope: ${allow.cpu.quantileCores.toFixed(2)} cores (p99 of ${allow.cpu.samples} samples)`,
  ];
  if (history.length) lines.push('', 'history:', ...history.map((h) => `  ${when(h.at)} ${h.kind} ${h.detail}`));
  return `${lines.join('\n')}\n`;
}

function showCommand(): Command {
  return new Command('show')
    .description('what a profile allows, where each allowance came from and when, and its history')
    .argument('<workload>', 'profile id, workload, or a unique part of it')
    .option('--json', 'print JSON')
    .action(async (name: string, flags: { json?: boolean }) => {
      await withProfileStore(async (store) => {
        const profile = await store.require((await resolveProfile(store, name)).id);
        const history = await store.history(profile.id, 50);
        process.stdout.write(flags.json ? `${JSON.stringify({ profile, history }, null, 2)}\n` : renderProfile(profile, history));
      });
    });
}

function changeCommand(name: string, description: string, change: (profile: Profile, now: number, arg?: string) => Profile, kind: 'approved' | 'relearn' | 'mode-changed', extraArg?: { name: string; description: string }): Command {
  const command = new Command(name).description(description).argument('<workload>', 'profile id, workload, or a unique part of it');
  if (extraArg) command.argument(extraArg.name, extraArg.description);
  return command.option('--json', 'print the changed profile as JSON').action(async (workload: string, ...rest: unknown[]) => {
    const arg = extraArg ? (rest[0] as string) : undefined;
    const flags = (extraArg ? rest[1] : rest[0]) as { json?: boolean };
    await withProfileStore(async (store) => {
      const { id } = await resolveProfile(store, workload);
      const updated = await store.modify(id, Date.now(), (profile) => {
        const next = change(profile, Date.now(), arg);
        return next === profile ? undefined : { profile: next, change: { kind, detail: arg ? `${profile.mode} → ${arg}` : kind } };
      });
      process.stdout.write(flags.json ? `${JSON.stringify(updated, null, 2)}\n` : `${updated.id} ${updated.key.workload}: mode ${updated.mode}, ${updated.phase} (revision ${updated.revision})\n`);
    });
  });
}

function listText(title: string, diff: { added: string[]; removed: string[] }): string[] {
  if (diff.added.length + diff.removed.length === 0) return [];
  return [`${title}:`, ...diff.added.map((item) => `  + ${item}`), ...diff.removed.map((item) => `  - ${item}`)];
}

export function renderDiff(diff: ProfileDiff): string {
  const lines = [`revision ${diff.fromRevision} → ${diff.toRevision}`];
  if (diff.mode) lines.push(`mode ${diff.mode.from} → ${diff.mode.to}`);
  if (diff.phase) lines.push(`phase ${diff.phase.from} → ${diff.phase.to}`);
  lines.push(...listText('executables', diff.processes), ...listText('digests', diff.digests), ...listText('egress', diff.egress), ...listText('listening', diff.listen), ...listText('file writes', diff.fileWrites), ...listText('syscalls', diff.syscalls));
  if (diff.cpu) lines.push(`cpu envelope ${diff.cpu.from.toFixed(2)} → ${diff.cpu.to.toFixed(2)} cores`);
  if (lines.length === 1) lines.push('no differences');
  return `${lines.join('\n')}\n`;
}

function revision(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new InvalidArgumentError('a revision is a positive integer');
  return parsed;
}

function diffCommand(): Command {
  return new Command('diff')
    .description('what changed in a profile between two revisions (default: the last snapshot and now)')
    .argument('<workload>', 'profile id, workload, or a unique part of it')
    .option('--from <revision>', 'older revision (a snapshot: taken on approve, relearn and phase changes)', revision)
    .option('--to <revision>', 'newer revision (default: the current one)', revision)
    .option('--json', 'print JSON')
    .action(async (name: string, flags: { from?: number; to?: number; json?: boolean }) => {
      await withProfileStore(async (store) => {
        const { id } = await resolveProfile(store, name);
        const diff = await store.diff(id, { ...(flags.from ? { from: flags.from } : {}), ...(flags.to ? { to: flags.to } : {}) });
        process.stdout.write(flags.json ? `${JSON.stringify(diff, null, 2)}\n` : renderDiff(diff));
      });
    });
}

export function profileCommand(): Command {
  return new Command('profile')
    .description('learned allow-list profiles: list, show, approve, relearn, set-mode, diff, export')
    .addCommand(listCommand())
    .addCommand(showCommand())
    .addCommand(changeCommand('approve', 'stop learning and enforce what was learned so far, now', (profile, now) => approve(profile, now), 'approved'))
    .addCommand(changeCommand('relearn', 'forget what was learned and learn again from now (mode is kept)', (profile, now) => relearn(profile, now), 'relearn'))
    .addCommand(
      changeCommand('set-mode', `set a workload's mode: ${enforcementModes.join(', ')}`, (profile, _now, mode) => setMode(profile, mode ?? ''), 'mode-changed', { name: '<mode>', description: enforcementModes.join(' | ') }),
    )
    .addCommand(diffCommand())
    .addCommand(exportCommand())
    .addHelpText('after', `\nA running agent applies changes within a second. Learning defaults: ${formatDuration(3_600_000)} minimum, ${formatDuration(600_000)} quiet.`);
}
