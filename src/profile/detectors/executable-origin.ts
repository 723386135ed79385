/**
 * Drift: was the executable part of the image, or did it appear after the container started? A container's root is
 * an overlay whose upper directory holds everything written since start; an executable found there was written,
 * downloaded or copied in (Falco's "drop and execute new binary"), and one run from a memfd never touched a disk.
 * Works for Docker and containerd alike, from the container's own /proc/PID/mountinfo.
 */
import { lstat, readFile } from 'node:fs/promises';
import { join } from 'node:path';

export type ExecutableOrigin = 'image' | 'written' | 'memfd' | 'unknown';

/** The overlay upper directory of the root mount in /proc/PID/mountinfo text, unescaped; undefined when not an overlay. */
export function parseRootUpperDir(mountinfo: string): string | undefined {
  for (const line of mountinfo.split('\n')) {
    const fields = line.split(' ');
    // 36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - overlay overlay rw,lowerdir=…,upperdir=…,workdir=…
    if (fields[4] !== '/') continue;
    const separator = fields.indexOf('-');
    if (separator < 0 || fields[separator + 1] !== 'overlay') continue;
    const options = fields[separator + 3] ?? '';
    const upper = options.split(',').find((option) => option.startsWith('upperdir='));
    if (upper) return upper.slice('upperdir='.length).replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
  }
  return undefined;
}

export function createOriginResolver() {
  const upperDirs = new Map<number, string | undefined>();
  return {
    /** `exe` is the path as the process sees it (from /proc/PID/exe), `mntns` keys the upper-dir cache. */
    async origin(pid: number, exe: string | undefined, mntns: number | undefined): Promise<ExecutableOrigin> {
      if (!exe) return 'unknown';
      if (exe.startsWith('/memfd:')) return 'memfd';
      if (!exe.startsWith('/')) return 'unknown';
      let upper = mntns === undefined ? undefined : upperDirs.get(mntns);
      if (upper === undefined && !(mntns !== undefined && upperDirs.has(mntns))) {
        const mountinfo = await readFile(`/proc/${pid}/mountinfo`, 'utf8').catch(() => undefined);
        // A process gone before its mountinfo was read says nothing about its namespace: do not remember that.
        if (mountinfo === undefined) return 'unknown';
        upper = parseRootUpperDir(mountinfo);
        if (mntns !== undefined) {
          if (upperDirs.size > 10_000) upperDirs.clear();
          upperDirs.set(mntns, upper);
        }
      }
      if (!upper) return 'unknown';
      const path = exe.replace(/ \(deleted\)$/, '');
      const found = await lstat(join(upper, path)).then((info) => info.isFile(), () => false);
      return found ? 'written' : 'image';
    },
  };
}
