/**
 * AppArmor exporter: a profile that lets the workload execute only the programs it was seen executing and write only
 * where it was seen writing; every other execution and write is denied by omission. Load it on each node with
 * `apparmor_parser -r FILE`, then run the container with `--security-opt apparmor=NAME` or a Kubernetes
 * `appArmorProfile: { type: Localhost, localhostProfile: NAME }`.
 *
 * The profile learns executions and writes, not reads, so reading stays open; capabilities stay as the container
 * runtime bounds them. Executables are `mrix`: mapped, read and run under this same profile (`ix`) — nomine makes one
 * profile per workload, not one per program, so there is nothing for a `px` transition to go to.
 */
import { NomineError } from '../../core/errors.ts';
import type { Profile } from '../profile.ts';
import { assertExportable, learningWarnings } from './export-guard.ts';
import { policyName } from './kubernetes-name.ts';
import type { ExportOptions, ExportResult, PolicyExporter } from './policy-exporter.ts';
import { hashComment, provenanceLines } from './provenance.ts';

/**
 * Characters a path may hold to be written as a quoted AppArmor path: no quote or backslash (the parser's escapes),
 * no control characters, and none of AppArmor's pattern characters besides the ones a learned pattern means.
 */
const unsafeInPath = /["\\\u0000-\u001f\u007f?[\]{}^]/;

/** `*` is a pattern in write paths (one segment, as in AppArmor) but an executable's name is literal. */
function isQuotablePath(path: unknown, allowGlob: boolean): path is string {
  if (typeof path !== 'string' || !path.startsWith('/') || path.length > 4096) return false;
  if (unsafeInPath.test(path)) return false;
  return allowGlob || !path.includes('*');
}

function quoted(path: string): string {
  return `"${path}"`;
}

function listLeftOut(kind: string, entries: unknown[]): string {
  const shown = entries.slice(0, 5).map((entry) => JSON.stringify(entry));
  return `left out ${kind} AppArmor cannot express safely (quotes, backslashes, control or pattern characters, or not absolute): ${shown.join(', ')}${entries.length > 5 ? ` (${entries.length} in all)` : ''}`;
}

function apparmorFileName(profile: Profile): string {
  return `${policyName(profile)}.apparmor`;
}

export const apparmorExporter: PolicyExporter = {
  id: 'apparmor',
  description: 'AppArmor profile: only the learned executables run, only the learned paths are written',
  kubernetesResource: false,
  fileName: (profile) => apparmorFileName(profile),
  export(profile: Profile, options: ExportOptions): ExportResult {
    assertExportable(profile, options, 'AppArmor');
    const warnings = learningWarnings(profile);
    const name = policyName(profile);

    const executables = new Set<string>();
    const badExecutables: unknown[] = [];
    for (const process of profile.allow.processes) {
      if (isQuotablePath(process.exe, false)) executables.add(process.exe);
      else badExecutables.push(process.exe);
    }
    const writes = new Set<string>();
    const badWrites: unknown[] = [];
    for (const write of profile.allow.fileWrites) {
      if (isQuotablePath(write.pattern, true)) writes.add(write.pattern);
      else badWrites.push(write.pattern);
    }
    if (badExecutables.length > 0) warnings.push(listLeftOut('executables', badExecutables));
    if (badWrites.length > 0) warnings.push(listLeftOut('write paths', badWrites));
    if (executables.size === 0) {
      throw new NomineError(
        'invalid-input',
        `profile ${profile.id} has no executables AppArmor can name, so the profile would forbid every program (the entrypoint too); AppArmor cannot be exported`,
        `profile ${profile.id}`,
      );
    }

    const protocols = new Set<string>();
    for (const entry of [...profile.allow.egress, ...profile.allow.listen]) {
      if (entry.protocol === 'tcp' || entry.protocol === 'udp') protocols.add(entry.protocol);
    }
    const lines: string[] = [];
    lines.push('abi <abi/3.0>,', '');
    lines.push(`profile ${name} flags=(attach_disconnected,mediate_deleted) {`);
    lines.push('  # Reads are not learned, so they stay open; shared libraries must be mappable to run.');
    lines.push('  /** r,');
    lines.push('  /{,usr/}lib{,32,64,x32}/** mr,');
    lines.push('  # The container runtime bounds capabilities; nomine does not learn them.');
    lines.push('  capability,');
    lines.push('');
    lines.push('  # Executables the workload ran: anything else is denied.');
    for (const exe of [...executables].sort()) lines.push(`  ${quoted(exe)} mrix,`);
    lines.push('');
    lines.push('  # Where the workload wrote: writes anywhere else are denied.');
    for (const pattern of [...writes].sort()) lines.push(`  ${quoted(pattern)} rwk,`);
    lines.push('');
    lines.push('  # Local IPC; inet sockets only for the protocols the workload used.');
    lines.push('  network unix,');
    lines.push('  unix,');
    if (protocols.has('tcp')) lines.push('  network inet stream,', '  network inet6 stream,');
    if (protocols.has('udp')) lines.push('  network inet dgram,', '  network inet6 dgram,');
    if (protocols.size > 0) lines.push('  network netlink raw,');
    lines.push('');
    lines.push('  # The runtime signals the container; its processes signal and inspect each other.');
    lines.push('  signal (receive) peer=unconfined,');
    lines.push(`  signal (send, receive) peer=${name},`);
    lines.push(`  ptrace (read, readby) peer=${name},`);
    lines.push('}');
    const header = hashComment([
      ...provenanceLines(profile, 'AppArmor profile'),
      '',
      `load on every node: apparmor_parser -r ${apparmorFileName(profile)}`,
      `docker: --security-opt apparmor=${name}; Kubernetes: appArmorProfile: { type: Localhost, localhostProfile: ${name} }`,
    ]);
    return { content: `${header}\n${lines.join('\n')}\n`, warnings };
  },
};
