/**
 * The benign side of the fixtures: real ELF executables of this machine, chosen deterministically (sorted, then
 * an even spread) so a scanner's false-positive rate is measured on ordinary software, not on toy programs.
 */
import { open, readdir, realpath, lstat } from 'node:fs/promises';
import { join } from 'node:path';

export interface BenignExecutable {
  name: string;
  path: string;
}

const SEARCH_DIRS = ['/usr/bin', '/usr/sbin', '/usr/local/bin'];
/** Always included when present: a static binary, and two large runtimes with many embedded strings. */
const NOTABLE = ['/bin/busybox', process.execPath, '/usr/bin/python3'];
const MIN_BYTES = 8 * 1024;
const MAX_BYTES = 256 * 1024 * 1024;

export async function isElf(path: string): Promise<boolean> {
  const handle = await open(path, 'r').catch(() => undefined);
  if (!handle) return false;
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await handle.read(head, 0, 4, 0);
    return bytesRead === 4 && head.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
  } finally {
    await handle.close();
  }
}

async function candidates(): Promise<string[]> {
  const found: string[] = [];
  for (const dir of SEARCH_DIRS) {
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names.sort()) {
      const path = join(dir, name);
      const info = await lstat(path).catch(() => undefined);
      // Symlinks are skipped so each program counts once (busybox applets, alternatives).
      if (!info?.isFile() || info.size < MIN_BYTES || info.size > MAX_BYTES) continue;
      if (await isElf(path)) found.push(path);
    }
  }
  return found;
}

/** `count` executables spread evenly over the sorted candidates, plus the notable ones; unique by real path. */
export async function listBenignExecutables(count = 48): Promise<BenignExecutable[]> {
  const all = await candidates();
  const step = Math.max(1, all.length / count);
  const picked: string[] = [];
  for (let i = 0; i < count && Math.floor(i * step) < all.length; i++) picked.push(all[Math.floor(i * step)]!);
  const seen = new Set<string>();
  const result: BenignExecutable[] = [];
  for (const path of [...NOTABLE, ...picked]) {
    const real = await realpath(path).catch(() => undefined);
    if (!real || seen.has(real) || !(await isElf(real))) continue;
    seen.add(real);
    result.push({ name: real.split('/').pop()!, path: real });
  }
  return result;
}
