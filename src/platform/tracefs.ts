/**
 * tracefs: the kernel file system through which tracepoints are found and attached (bpftrace reads event formats
 * from it). Modern systems mount it at /sys/kernel/tracing; minimal hosts and some container setups do not, so
 * the agent mounts it when the directory is there but empty, and says plainly why when it cannot.
 */
import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const tracefsMountPoint = '/sys/kernel/tracing';

export type TracefsState = { ok: true; path: string; mountedNow: boolean } | { ok: false; reason: string };

/** Ensures tracefs is mounted at `path` (mounting it when `events/` is missing or empty). Never throws. */
export async function ensureTracefs(path: string = tracefsMountPoint): Promise<TracefsState> {
  if (await hasEvents(path)) return { ok: true, path, mountedNow: false };
  try {
    await run('mount', ['-t', 'tracefs', 'tracefs', path], { timeout: 10_000 });
  } catch (error) {
    // mount(8) adds a second line pointing at dmesg; the first says what went wrong.
    const detail = ((error as { stderr?: string }).stderr || (error as Error).message).trim().split('\n')[0]!.replace(/\.$/, '');
    const hint = typeof process.getuid === 'function' && process.getuid() !== 0 ? ' (mounting needs root)' : '';
    return { ok: false, reason: `tracefs is not mounted at ${path} and mounting it failed${hint}: ${detail}. Mount it with: mount -t tracefs tracefs ${path}` };
  }
  if (await hasEvents(path)) return { ok: true, path, mountedNow: true };
  return { ok: false, reason: `tracefs mounted at ${path} but ${join(path, 'events')} is empty: the kernel has no tracepoints (CONFIG_FTRACE off?)` };
}

async function hasEvents(path: string): Promise<boolean> {
  try {
    return (await readdir(join(path, 'events'))).length > 0;
  } catch {
    return false;
  }
}

/** Names of the syscall tracepoints this kernel has (`sys_enter_openat2`, …); empty when they cannot be listed. */
export function listSyscallTracepoints(path: string = tracefsMountPoint): Set<string> {
  try {
    return new Set(readdirSync(join(path, 'events', 'syscalls')));
  } catch {
    return new Set();
  }
}
