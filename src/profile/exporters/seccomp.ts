/**
 * Seccomp exporter: the profile's syscalls as a seccomp profile in the JSON format Docker (`--security-opt
 * seccomp=FILE`), containerd and CRI-O read — and so Kubernetes, as a `Localhost` seccompProfile. Everything not
 * listed fails with EPERM (SCMP_ACT_ERRNO, errno 1): a process that probes for a syscall gets an error it can
 * handle instead of being killed, and a miner that needs a syscall the workload never used cannot make it.
 */
import { NomineError } from '../../core/errors.ts';
import type { Profile } from '../profile.ts';
import { assertExportable, learningWarnings } from './export-guard.ts';
import { policyName } from './kubernetes-name.ts';
import type { ExportOptions, ExportResult, PolicyExporter } from './policy-exporter.ts';
import { commentSafe } from './provenance.ts';

/**
 * What the runtime itself does inside the container's process after it installed the filter and before (or while)
 * it calls execve. runc installs the filter as late as it can, but then still drops capabilities (capget, capset,
 * prctl), switches user (setgroups, setgid, setuid), sets umask and the working directory (chdir, getcwd), closes
 * inherited descriptors (openat, fstatfs, getdents64, fstat, newfstatat, close), waits on its exec fifo (read,
 * write, getppid), looks the binary up (faccessat2) and execs it (execve); every process exits with exit_group.
 * runc is a Go program and its other threads keep running under the filter: futex and set_robust_list, and for the
 * runtime's signal-based preemption and memory (rt_sigreturn, rt_sigprocmask, sigaltstack, tgkill, getpid, gettid,
 * mmap, munmap, nanosleep, sched_yield) — without those one start in thirty died with SIGSEGV.
 *
 * Found empirically on runc 1.1.5 (Debian 12, Docker 20.10): starting from everything a container running a
 * do-nothing static program called, each syscall was removed in turn and kept only if the container no longer
 * started; the set then started 60 of 60 times. test/e2e/export-seccomp.test.ts checks it on the real engine.
 */
export const runtimeStartSyscalls: readonly string[] = [
  'capget',
  'capset',
  'chdir',
  'close',
  'execve',
  'exit_group',
  'faccessat2',
  'fstat',
  'fstatfs',
  'futex',
  'getcwd',
  'getdents64',
  'getpid',
  'getppid',
  'gettid',
  'mmap',
  'munmap',
  'nanosleep',
  'newfstatat',
  'openat',
  'prctl',
  'read',
  'rt_sigprocmask',
  'rt_sigreturn',
  'sched_yield',
  'set_robust_list',
  'setgid',
  'setgroups',
  'setuid',
  'sigaltstack',
  'tgkill',
  'umask',
  'write',
];

/** x86_64 containers also run 32-bit (x86) and x32 code; the names resolve per architecture in libseccomp. */
export const seccompArchitectures = ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'] as const;

/** EPERM: what a process gets for a syscall that is not allowed. */
export const deniedErrno = 1;

const syscallNamePattern = /^[a-z][a-z0-9_]{0,63}$/;
/** Sensors name syscalls their table does not know `syscall_<n>`: a number, not a name libseccomp can resolve. */
const standInName = /^syscall_[0-9]+$/;

export interface SeccompProfileDocument {
  defaultAction: 'SCMP_ACT_ERRNO';
  defaultErrnoRet: number;
  architectures: string[];
  syscalls: { names: string[]; action: 'SCMP_ACT_ALLOW'; comment: string }[];
}

function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export const seccompExporter: PolicyExporter = {
  id: 'seccomp',
  description: 'seccomp profile (JSON) for docker run --security-opt seccomp=FILE or a Kubernetes Localhost seccompProfile',
  kubernetesResource: false,
  fileName: (profile) => `${policyName(profile)}.seccomp.json`,
  export(profile: Profile, options: ExportOptions): ExportResult {
    assertExportable(profile, options, 'seccomp');
    const learned = profile.allow.syscalls;
    if (learned === undefined) {
      throw new NomineError(
        'invalid-input',
        `profile ${profile.id} has no syscall data (the sensor gave none); seccomp cannot be exported; processes, network and file paths can`,
        `profile ${profile.id}`,
      );
    }
    const warnings = learningWarnings(profile);
    const names = new Set<string>();
    const dropped: string[] = [];
    for (const name of learned) {
      if (typeof name === 'string' && syscallNamePattern.test(name) && !standInName.test(name)) names.add(name);
      else dropped.push(typeof name === 'string' ? JSON.stringify(name) : String(name));
    }
    if (dropped.length > 0) {
      const shown = dropped.slice(0, 5).join(', ') + (dropped.length > 5 ? `, … (${dropped.length} in all)` : '');
      warnings.push(`left out syscall entries that are not syscall names: ${shown}; the workload gets EPERM for them`);
    }
    if (names.size === 0) warnings.push('no syscalls were learned: only what the runtime needs to start the process is allowed, so the workload will most likely fail');
    const runtime = [...runtimeStartSyscalls].sort(byCodeUnit);
    const runtimeSet = new Set(runtime);
    const learnedOnly = [...names].filter((name) => !runtimeSet.has(name)).sort(byCodeUnit);
    const document: SeccompProfileDocument = {
      defaultAction: 'SCMP_ACT_ERRNO',
      defaultErrnoRet: deniedErrno,
      architectures: [...seccompArchitectures],
      syscalls: [
        { names: runtime, action: 'SCMP_ACT_ALLOW', comment: 'nomine: what the container runtime (runc) needs to start the process' },
        ...(learnedOnly.length > 0
          ? [
              {
                names: learnedOnly,
                action: 'SCMP_ACT_ALLOW' as const,
                comment: `nomine: learned by ${commentSafe(profile.key.workload)} (profile ${commentSafe(profile.id)}, revision ${profile.revision})`,
              },
            ]
          : []),
      ],
    };
    return { content: `${JSON.stringify(document, null, 2)}\n`, warnings };
  },
};
