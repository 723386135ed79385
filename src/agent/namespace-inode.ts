/**
 * Where a process lives, read from /proc: the inodes of its mount and pid namespaces (the keys events are mapped to
 * entities by) and its cgroup file (the fallback that names the container). A process may exit at any moment, so
 * every read tolerates it being gone and answers `undefined` instead of throwing.
 */
import { readFile, readlink } from 'node:fs/promises';

export interface NamespaceInodes {
  mntns?: number;
  pidns?: number;
}

export const defaultProcRoot = '/proc';

/** A /proc/PID/cgroup file is a few hundred bytes; a larger answer is not one and is cut here. */
const maxCgroupFileBytes = 64 * 1024;

/** The inode in a namespace link (`mnt:[4026531832]`), or undefined when the text is not one. */
export function parseNamespaceLink(link: string, kind: 'mnt' | 'pid'): number | undefined {
  const match = /^([a-z_]+):\[(\d{1,20})\]$/.exec(link.trim());
  if (!match || match[1] !== kind) return undefined;
  const inode = Number(match[2]);
  return Number.isSafeInteger(inode) && inode > 0 ? inode : undefined;
}

async function readNamespace(pid: number, kind: 'mnt' | 'pid', procRoot: string): Promise<number | undefined> {
  try {
    return parseNamespaceLink(await readlink(`${procRoot}/${pid}/ns/${kind}`), kind);
  } catch {
    return undefined; // gone, or not ours to read (another user's process without CAP_SYS_PTRACE)
  }
}

/** The namespace inodes of `pid`; undefined when neither can be read (the process is gone). */
export async function readNamespaceInodes(pid: number, procRoot = defaultProcRoot): Promise<NamespaceInodes | undefined> {
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
  const [mntns, pidns] = await Promise.all([readNamespace(pid, 'mnt', procRoot), readNamespace(pid, 'pid', procRoot)]);
  if (mntns === undefined && pidns === undefined) return undefined;
  return { ...(mntns !== undefined ? { mntns } : {}), ...(pidns !== undefined ? { pidns } : {}) };
}

/** The text of /proc/PID/cgroup; undefined when the process is gone. */
export async function readProcessCgroup(pid: number, procRoot = defaultProcRoot): Promise<string | undefined> {
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
  try {
    const text = await readFile(`${procRoot}/${pid}/cgroup`, 'utf8');
    return text.length > maxCgroupFileBytes ? text.slice(0, maxCgroupFileBytes) : text;
  } catch {
    return undefined;
  }
}

/**
 * The host's namespaces: those of pid 1. Some sandboxes (a Firecracker init, a hardened pid 1) refuse even root a
 * look at pid 1's namespaces; the agent's own are the host's then, as it runs in the host namespaces.
 */
export async function readHostNamespaceInodes(procRoot = defaultProcRoot): Promise<NamespaceInodes> {
  const init = await readNamespaceInodes(1, procRoot);
  if (init?.mntns !== undefined && init.pidns !== undefined) return init;
  return { ...(await readNamespaceInodes(process.pid, procRoot)), ...init };
}
