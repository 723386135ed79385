/**
 * Executable hashing: the SHA-256 of the file a process runs, read through /proc/PID/exe. That link opens the very
 * inode the kernel mapped, so a binary deleted after start or a memfd that never had a path hashes like any other.
 * Hashes are cached by (device, inode, size, mtime) of the file behind the link, so a node running the same binary
 * in a thousand processes reads it once; concurrent requests for one file share the read.
 */
import { createHash } from 'node:crypto';
import { access, open, readlink, stat } from 'node:fs/promises';
import type { BigIntStats } from 'node:fs';
import { parseExeLink } from './sensors/procfs-parse.ts';

const MiB = 1024 * 1024;

/** Executables larger than this are not read (a hashError 'too large' says so): a miner is a few MiB. */
export const maxHashedExeBytes = 256 * MiB;
/** Distinct executables whose hash is remembered; the least recently used is forgotten first. */
export const maxCachedExeHashes = 4096;
/** Files read at once; more requests wait, so a burst of execs does not open a hundred large files together. */
export const maxConcurrentExeReads = 4;

const readChunkBytes = MiB;

export interface ExeHash {
  /** Lower-case hex, as hash lists hold it. */
  sha256?: string;
  /** Path of the executable as the process sees it, " (deleted)" removed. */
  exe?: string;
  exeDeleted?: boolean;
  /** Why sha256 is missing: 'process exited', 'permission denied', 'too large', 'kernel thread', … */
  hashError?: string;
}

export interface ExeHasherStats {
  /** Files read and hashed. */
  reads: number;
  bytesRead: number;
  cacheHits: number;
  /** Requests that joined a read already under way for the same file. */
  sharedReads: number;
  failures: number;
  cached: number;
}

export interface ExeHasherOptions {
  procRoot?: string;
  maxBytes?: number;
  maxEntries?: number;
  maxConcurrentReads?: number;
}

export interface ExeHasher {
  hash(pid: number): Promise<ExeHash>;
  stats(): ExeHasherStats;
}

type Outcome = { sha256: string } | { hashError: string };

function fileKey(st: BigIntStats): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}`;
}

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

export function createExeHasher(options: ExeHasherOptions = {}): ExeHasher {
  const procRoot = options.procRoot ?? '/proc';
  const maxBytes = options.maxBytes ?? maxHashedExeBytes;
  const maxEntries = Math.max(1, options.maxEntries ?? maxCachedExeHashes);
  const maxReads = Math.max(1, options.maxConcurrentReads ?? maxConcurrentExeReads);
  const cache = new Map<string, string>(); // insertion order is recency: a hit moves its key to the end
  const inFlight = new Map<string, Promise<Outcome>>();
  const waiting: (() => void)[] = [];
  let reading = 0;
  const counters = { reads: 0, bytesRead: 0, cacheHits: 0, sharedReads: 0, failures: 0 };

  async function describeFailure(error: unknown, pid: number): Promise<string> {
    const code = errorCode(error);
    if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
    if (code === 'ENOENT' || code === 'ESRCH') {
      // A kernel thread has a /proc entry but no executable; a process that is gone has neither.
      const isAlive = await access(`${procRoot}/${pid}/stat`).then(
        () => true,
        () => false,
      );
      return isAlive ? 'no executable (kernel thread)' : 'process exited';
    }
    return `read failed: ${code ?? String(error)}`;
  }

  async function withReadSlot<T>(work: () => Promise<T>): Promise<T> {
    if (reading >= maxReads) await new Promise<void>((resolve) => waiting.push(resolve));
    reading += 1;
    try {
      return await work();
    } finally {
      reading -= 1;
      waiting.shift()?.();
    }
  }

  function remember(key: string, sha256: string): void {
    cache.set(key, sha256);
    if (cache.size > maxEntries) cache.delete(cache.keys().next().value!);
  }

  async function readAndHash(exePath: string, pid: number, expectedKey: string): Promise<Outcome> {
    return withReadSlot(async () => {
      let handle;
      try {
        handle = await open(exePath, 'r');
      } catch (error) {
        return { hashError: await describeFailure(error, pid) };
      }
      try {
        // The process may have exec'd something else between stat and open: key by what was opened.
        const key = fileKey(await handle.stat({ bigint: true }));
        const known = cache.get(key);
        if (known) return { sha256: known };
        const digest = createHash('sha256');
        const buffer = Buffer.allocUnsafe(readChunkBytes);
        let total = 0;
        for (;;) {
          const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
          if (bytesRead === 0) break;
          total += bytesRead;
          if (total > maxBytes) return { hashError: 'too large' };
          digest.update(buffer.subarray(0, bytesRead));
        }
        counters.reads += 1;
        counters.bytesRead += total;
        const sha256 = digest.digest('hex');
        remember(key, sha256);
        if (key !== expectedKey) remember(expectedKey, sha256);
        return { sha256 };
      } catch (error) {
        return { hashError: await describeFailure(error, pid) };
      } finally {
        await handle.close();
      }
    });
  }

  function startRead(exePath: string, pid: number, key: string): Promise<Outcome> {
    const pending = readAndHash(exePath, pid, key).finally(() => {
      if (inFlight.get(key) === pending) inFlight.delete(key);
    });
    inFlight.set(key, pending);
    return pending;
  }

  async function hash(pid: number): Promise<ExeHash> {
    if (!Number.isSafeInteger(pid) || pid <= 0) return { hashError: 'invalid pid' };
    const exePath = `${procRoot}/${pid}/exe`;
    let link: string;
    try {
      link = await readlink(exePath);
    } catch (error) {
      counters.failures += 1;
      return { hashError: await describeFailure(error, pid) };
    }
    const { path, deleted } = parseExeLink(link);
    const described: ExeHash = { exe: path, exeDeleted: deleted };
    let st: BigIntStats;
    try {
      st = await stat(exePath, { bigint: true }); // follows the link to the file the process runs
    } catch (error) {
      counters.failures += 1;
      return { ...described, hashError: await describeFailure(error, pid) };
    }
    if (!st.isFile()) return { ...described, hashError: 'not a regular file' };
    if (st.size > BigInt(maxBytes)) return { ...described, hashError: 'too large' };
    const key = fileKey(st);
    const known = cache.get(key);
    if (known) {
      counters.cacheHits += 1;
      cache.delete(key);
      cache.set(key, known);
      return { ...described, sha256: known };
    }
    const shared = inFlight.get(key);
    if (shared) counters.sharedReads += 1;
    let outcome = await (shared ?? startRead(exePath, pid, key));
    // The process that started a shared read may have exited before it could be opened; this one may still run.
    if (shared && 'hashError' in outcome) outcome = await startRead(exePath, pid, key);
    if ('hashError' in outcome) counters.failures += 1;
    return { ...described, ...outcome };
  }

  return {
    hash,
    stats: () => ({ ...counters, cached: cache.size }),
  };
}
