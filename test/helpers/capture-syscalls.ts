/**
 * Syscall capture for tests: a small bpftrace program on tracepoint:raw_syscalls:sys_enter that counts syscalls per
 * mount namespace (curtask->nsproxy->mnt_ns->ns.inum, readable here through BTF), leaving out the host's. A
 * container gets its own mount namespace the moment the runtime creates it, so everything the container does is
 * counted under one inode, which the test reads from /proc/PID/ns/mnt while the container runs. runc's own setup
 * inside the namespace (its `runc:[1:CHILD]` and `runc:[2:INIT]` processes: netlink sockets for the loopback
 * interface, mounts, pivot_root) happens before the seccomp filter exists and is left out, as a sensor that learns
 * from the workload's exec on leaves it out; the exporter adds what runc still does after the filter is in place.
 * Later the agent's learned profiles feed the same path.
 */
import { execFile, spawn } from 'node:child_process';
import { readlink } from 'node:fs/promises';
import { promisify } from 'node:util';
import { parseNamespaceLink } from '../../src/agent/namespace-inode.ts';
import { x86_64SyscallName } from '../../src/agent/syscall-names.ts';

const run = promisify(execFile);

/** Counts per syscall number, per mount namespace inode. */
export type SyscallCounts = Map<number, Map<number, number>>;

export interface SyscallCapture {
  /** Stops bpftrace (SIGINT, so it prints its map) and returns what it counted. */
  stop(): Promise<SyscallCounts>;
}

/** Why the capture cannot run here, or false when it can. */
export async function syscallCaptureUnavailable(): Promise<string | false> {
  if (process.getuid?.() !== 0) return 'bpftrace needs root';
  try {
    await run('bpftrace', ['--version']);
    return false;
  } catch {
    return 'bpftrace is not installed';
  }
}

export async function hostMountNamespace(): Promise<number> {
  const inode = parseNamespaceLink(await readlink('/proc/self/ns/mnt'), 'mnt');
  if (inode === undefined) throw new Error('cannot read /proc/self/ns/mnt');
  return inode;
}

/** `@s[4026532250, 59]: 3` lines → counts; anything else bpftrace prints is ignored. */
export function parseCaptureOutput(text: string): SyscallCounts {
  const counts: SyscallCounts = new Map();
  for (const line of text.split('\n')) {
    const match = /^@s\[(\d{1,20}), (\d{1,5})\]: (\d{1,20})$/.exec(line.trim());
    if (!match) continue;
    const [mntns, nr, count] = [Number(match[1]), Number(match[2]), Number(match[3])];
    const perNamespace = counts.get(mntns) ?? new Map<number, number>();
    perNamespace.set(nr, (perNamespace.get(nr) ?? 0) + count);
    counts.set(mntns, perNamespace);
  }
  return counts;
}

export async function startSyscallCapture(options: { readyTimeoutMs?: number } = {}): Promise<SyscallCapture> {
  const host = await hostMountNamespace();
  // Ready is said by the counting probe itself, on the first syscall it sees: a line from BEGIN can come before
  // the tracepoint is attached, and a container started in that gap went uncounted on a loaded machine.
  const program =
    'tracepoint:raw_syscalls:sys_enter { if (@ready == 0) { @ready = 1; printf("nomine-capture-ready\\n"); } ' +
    `if (curtask->nsproxy->mnt_ns->ns.inum != ${host} && strncmp(comm, "runc:[", 6) != 0) ` +
    '{ @s[curtask->nsproxy->mnt_ns->ns.inum, args->id] = count(); } }';
  // Other containers on the machine add keys too; the default 4096 could fill and drop ours silently.
  const child = spawn('bpftrace', ['-e', program], { env: { ...process.env, BPFTRACE_MAP_KEYS_MAX: '262144' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const deadline = Date.now() + (options.readyTimeoutMs ?? 20_000);
  while (!stdout.includes('nomine-capture-ready')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`bpftrace did not start: ${stderr.trim().slice(-500)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    async stop() {
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
      return parseCaptureOutput(stdout);
    },
  };
}

/** Syscall numbers → x86_64 names (the agent's table), sorted. */
export function syscallNames(counts: Map<number, number> | undefined): string[] {
  return [...new Set([...(counts ?? new Map<number, number>()).keys()].map((nr) => x86_64SyscallName(nr)))].sort();
}

/** The mount namespace inode of a running container's first process. */
export async function containerMountNamespace(container: string): Promise<number> {
  const { stdout } = await run('docker', ['inspect', '--format', '{{.State.Pid}}', container]);
  const pid = Number(stdout.trim());
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`container ${container} is not running`);
  const inode = parseNamespaceLink(await readlink(`/proc/${pid}/ns/mnt`), 'mnt');
  if (inode === undefined) throw new Error(`cannot read the mount namespace of pid ${pid}`);
  return inode;
}
