/**
 * Runtime test workloads: the miner-like stratum worker (compiled static once per source version), and busybox
 * images for the agent's tests — a benign workload (httpd plus a loop fetching from a service on 127.0.0.x), and
 * the same image tampered with a miner present from the first second.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { busyboxRootfs, dockerImport, tarDirectory } from './image-builder.ts';
import { fixturesSourceDir } from './fixtures.ts';

const run = promisify(execFile);

/** Applets the workloads use beyond the base root FS. */
const workloadApplets = ['httpd', 'nc', 'mkdir', 'touch', 'rm', 'chmod', 'cp', 'head', 'date', 'seq'];

/** Path of the static stratum-worker binary, built on first use and cached by the hash of its sources. */
export async function stratumWorkerBinary(): Promise<string> {
  const sources = ['runtime/stratum-worker.c', 'miners/pool-connect.h'];
  const hash = createHash('sha256');
  for (const source of sources) hash.update(await readFile(join(fixturesSourceDir, source)));
  const dir = join(tmpdir(), 'nomine-runtime-fixtures', hash.digest('hex').slice(0, 16));
  const binary = join(dir, 'stratum-worker');
  if (await stat(binary).then(() => true, () => false)) return binary;
  await mkdir(dir, { recursive: true });
  const partial = `${binary}.${process.pid}`;
  await run('gcc', ['-O2', '-static', '-o', partial, join(fixturesSourceDir, 'runtime/stratum-worker.c')]);
  await run('mv', [partial, binary]);
  return binary;
}

export interface WorkloadImageOptions {
  /** Put the miner at this path in the image (the tampered-image case). */
  minerAt?: string;
  cmd?: string[];
}

/** A busybox workload image imported into the local engine; returns the image id. */
export async function buildWorkloadImage(name: string, options: WorkloadImageOptions = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'nomine-workload-'));
  try {
    const root = join(dir, 'rootfs');
    await busyboxRootfs(root);
    for (const applet of workloadApplets) await symlink('busybox', join(root, 'bin', applet)).catch(() => undefined);
    await mkdir(join(root, 'www'), { recursive: true });
    await writeFile(join(root, 'www/index.html'), '<h1>kv-store</h1>\n');
    await mkdir(join(root, 'var/log'), { recursive: true });
    if (options.minerAt) {
      await mkdir(join(root, options.minerAt, '..'), { recursive: true });
      await copyFile(await stratumWorkerBinary(), join(root, options.minerAt));
      await run('chmod', ['0755', join(root, options.minerAt)]);
    }
    await tarDirectory(root, join(dir, 'rootfs.tar'));
    return await dockerImport(join(dir, 'rootfs.tar'), name, { cmd: options.cmd ?? ['sleep', '3600'] });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The benign workload's command: an httpd on 127.0.0.1:PORT (host network) and a loop that fetches from a service on
 * `upstream` every `everyMs` and appends to a log, like a small app polling its backend.
 */
export function benignWorkloadScript(options: { httpPort: number; upstream: string; everyMs?: number }): string[] {
  const seconds = ((options.everyMs ?? 300) / 1000).toFixed(2);
  return [
    'sh',
    '-c',
    `httpd -f -p 127.0.0.1:${options.httpPort} -h /www & while :; do wget -q -O /tmp/last.html http://${options.upstream}/ ; echo fetched >> /var/log/app.log; sleep ${seconds}; done`,
  ];
}

export async function removeContainer(name: string): Promise<void> {
  await run('docker', ['rm', '-f', name]).catch(() => undefined);
}
