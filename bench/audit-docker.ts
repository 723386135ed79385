/**
 * The container fleet for `npm run bench:audit`: a busybox image made by `docker import` (no pulls), N running
 * `sleep 3600` containers with `--network none` and the label `nomine-bench=audit`, started a few at a time, and
 * a cleanup that removes every container carrying the label and the image — safe to call twice, from a finally
 * and from a signal handler.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { busyboxRootfs, dockerImport, tarDirectory } from '../test/helpers/image-builder.ts';

const run = promisify(execFile);

export const benchLabel = 'nomine-bench=audit';
export const benchImage = 'nomine-bench-audit:busybox';
export const containerName = (index: number) => `nomine-bench-audit-${String(index).padStart(3, '0')}`;

/** Runs `task` over `items`, at most `limit` at a time; the first error stops new work and is thrown. */
export async function eachLimited<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed: unknown;
  const worker = async () => {
    while (failed === undefined && next < items.length) {
      const item = items[next++] as T;
      try {
        await task(item);
      } catch (error) {
        failed ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failed !== undefined) throw failed;
}

export async function buildBusyboxImage(): Promise<string> {
  const scratch = mkdtempSync(join(tmpdir(), 'nomine-bench-audit-rootfs-'));
  try {
    await busyboxRootfs(join(scratch, 'rootfs'));
    await tarDirectory(join(scratch, 'rootfs'), join(scratch, 'rootfs.tar'));
    return await dockerImport(join(scratch, 'rootfs.tar'), benchImage, { cmd: ['/bin/sleep', '3600'] });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

let stopping = false;

/** No new `docker run` after this (a signal arrived); the ones in flight finish and are removed by the cleanup. */
export function stopStarting(): void {
  stopping = true;
}

export async function startContainers(count: number, concurrency: number, progress: (started: number) => void): Promise<string[]> {
  const names = Array.from({ length: count }, (_, i) => containerName(i));
  let started = 0;
  await eachLimited(names, concurrency, async (name) => {
    if (stopping) throw new Error('interrupted');
    await run('docker', ['run', '-d', '--network', 'none', '--label', benchLabel, '--name', name, benchImage, '/bin/sleep', '3600']);
    started += 1;
    progress(started);
  });
  return names;
}

async function labelledContainers(): Promise<string[]> {
  const { stdout } = await run('docker', ['ps', '-aq', '--filter', `label=${benchLabel}`]);
  return stdout.split('\n').filter(Boolean);
}

/** Removes every container with the bench label (in batches, a few batches at a time), then the image. */
export async function removeFleet(log: (message: string) => void): Promise<void> {
  const ids = await labelledContainers().catch(() => []);
  if (ids.length) log(`removing ${ids.length} bench containers`);
  const batches: string[][] = [];
  for (let i = 0; i < ids.length; i += 25) batches.push(ids.slice(i, i + 25));
  await eachLimited(batches, 4, async (batch) => {
    await run('docker', ['rm', '-f', ...batch]).catch((error: Error) => log(`docker rm failed: ${error.message.split('\n')[0]}`));
  });
  const left = await labelledContainers().catch(() => []);
  if (left.length) log(`WARNING: ${left.length} bench containers still present: docker rm -f $(docker ps -aq --filter label=${benchLabel})`);
  await run('docker', ['rmi', '--force', benchImage]).catch(() => undefined);
}

let cleaning: Promise<void> | undefined;

/** removeFleet once, however many times (finally, SIGINT) it is asked for. */
export function cleanupFleet(log: (message: string) => void): Promise<void> {
  cleaning ??= removeFleet(log);
  return cleaning;
}
