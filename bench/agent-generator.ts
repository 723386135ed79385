/**
 * The event generator of the runtime benchmarks: test/fixtures/runtime/event-generator.c compiled static (cached by
 * the hash of its source), a busybox image made by `docker import` with the generator at /usr/local/bin, and
 * containers of that image with `--network host` named and labelled for the bench, so a cleanup removes exactly
 * what the bench started. `runSteps` drives one paced run through `docker exec` and returns what it did.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, copyFile, mkdir, mkdtemp, readFile, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { busyboxRootfs, dockerImport, tarDirectory } from '../test/helpers/image-builder.ts';
import { fixturesSourceDir } from '../test/helpers/fixtures.ts';

const run = promisify(execFile);

export const generatorSource = join(fixturesSourceDir, 'runtime/event-generator.c');
/** Where the generator sits in the image (part of the image, so the agent sees no drift when it runs). */
export const generatorInImage = '/usr/local/bin/event-generator';

/** Path of the static generator, built on first use and cached by the hash of its source. */
export async function generatorBinary(): Promise<string> {
  const source = await readFile(generatorSource);
  const dir = join(tmpdir(), 'nomine-bench-generator', createHash('sha256').update(source).digest('hex').slice(0, 16));
  const binary = join(dir, 'event-generator');
  if (await stat(binary).then(() => true, () => false)) return binary;
  await mkdir(dir, { recursive: true });
  const partial = `${binary}.${process.pid}`;
  await run('gcc', ['-O2', '-Wall', '-static', '-o', partial, generatorSource]);
  await rename(partial, binary);
  return binary;
}

/** A busybox image with the generator in it; returns the image id. */
export async function buildGeneratorImage(name: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'nomine-bench-genimage-'));
  try {
    const root = join(dir, 'rootfs');
    await busyboxRootfs(root);
    await mkdir(join(root, 'usr/local/bin'), { recursive: true });
    await copyFile(await generatorBinary(), join(root, generatorInImage));
    await chmod(join(root, generatorInImage), 0o755);
    await tarDirectory(root, join(dir, 'rootfs.tar'));
    return await dockerImport(join(dir, 'rootfs.tar'), name, { cmd: ['sleep', '3600'] });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function docker(args: string[], timeoutMs = 120_000): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run('docker', args, { maxBuffer: 16 << 20, timeout: timeoutMs });
    return { stdout, stderr, code: 0 };
  } catch (error) {
    const failure = error as { code?: number | string; stdout?: string; stderr?: string };
    return { stdout: failure.stdout ?? '', stderr: failure.stderr ?? '', code: typeof failure.code === 'number' ? failure.code : -1 };
  }
}

/** Starts a long-lived container (`sleep 3600`) of `image` on the host network; returns its full id. */
export async function startContainer(name: string, image: string, label: string, command: string[] = ['sleep', '3600'], runArgs: string[] = []): Promise<string> {
  await docker(['rm', '-f', name]);
  const started = await docker(['run', '-d', '--network', 'host', '--label', label, '--name', name, ...runArgs, image, ...command]);
  if (started.code !== 0) throw new Error(`docker run ${name} failed: ${started.stderr.trim()}`);
  return started.stdout.trim();
}

/** Removes every container carrying `label`, then the images; never throws. */
export async function removeLabelled(label: string, images: string[]): Promise<void> {
  const listed = await docker(['ps', '-aq', '--filter', `label=${label}`]);
  const ids = listed.stdout.split('\n').filter(Boolean);
  if (ids.length) await docker(['rm', '-f', ...ids]);
  for (const image of images) await docker(['rmi', '--force', image]);
}

export interface GeneratorReport {
  rate: number;
  seconds: number;
  execs: number;
  execErrors: number;
  connects: number;
  connectErrors: number;
  writes: number;
  writeErrors: number;
  /** Connections the generator's listener accepted. */
  accepts: number;
  /** Events the agent should see from this run: an exec and an exit per exec, connects, accepts, writes. */
  expectedEvents: number;
  /** expectedEvents over the generator's own run time. */
  achievedRate: number;
}

export interface GeneratorRun {
  rate: number;
  seconds: number;
  execRate: number;
  listen: string;
  connectPer1000?: number;
  /** Generator processes sharing the rate (one cannot reach the top rates on its own once every syscall is traced). */
  workers?: number;
}

/** Exec rate of a step: enough execs for a latency distribution at low rates, a small share at high ones. */
export function execRateFor(rate: number): number {
  return Math.min(200, Math.max(50, Math.round(rate / 500)));
}

/** SIGKILL ended the generator: something on the node acts on the bench's container (another agent in prevent mode). */
export class GeneratorKilled extends Error {
  constructor() {
    super('the generator was killed (exit 137): another agent on the node in prevent mode?');
  }
}

/** One paced run inside the container; rejects when the generator fails or prints nothing usable. */
export async function runGenerator(container: string, step: GeneratorRun): Promise<GeneratorReport> {
  const args = ['exec', container, generatorInImage, 'run', '--rate', String(step.rate), '--seconds', String(step.seconds), '--exec-rate', String(step.execRate), '--listen', step.listen,
    '--connect-per-1000', String(step.connectPer1000 ?? 10), '--dir', '/tmp/gen', '--self', generatorInImage, '--workers', String(step.workers ?? 1)];
  const result = await docker(args, (step.seconds + 60) * 1000);
  if (result.code === 137) throw new GeneratorKilled();
  if (result.code !== 0) throw new Error(`the generator failed (exit ${result.code}): ${result.stderr.trim().slice(0, 500)}`);
  return parseGeneratorOutput(result.stdout);
}

export function parseGeneratorOutput(stdout: string): GeneratorReport {
  let main: Record<string, number> | undefined;
  let accepts = 0;
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      continue; // a line cut short; the report is checked below
    }
    if (typeof parsed !== 'object' || parsed === null) continue;
    const fields = parsed as Record<string, unknown>;
    if (fields.listener === true) accepts = Number(fields.accepts) || 0;
    else main = fields as Record<string, number>;
  }
  const counts = ['rate', 'seconds', 'execs', 'execErrors', 'connects', 'connectErrors', 'writes', 'writeErrors'] as const;
  if (!main || counts.some((key) => typeof main![key] !== 'number' || !Number.isFinite(main![key])) || main.seconds! <= 0) {
    throw new Error(`the generator printed no usable report: ${stdout.slice(0, 300)}`);
  }
  const report = {
    rate: main.rate!,
    seconds: main.seconds!,
    execs: main.execs!,
    execErrors: main.execErrors!,
    connects: main.connects!,
    connectErrors: main.connectErrors!,
    writes: main.writes!,
    writeErrors: main.writeErrors!,
    accepts,
  };
  // A failed connect is still a connect attempt the sensor reports (it traces the syscall's entry).
  const expectedEvents = 2 * report.execs + report.connects + report.connectErrors + accepts + report.writes;
  return { ...report, expectedEvents, achievedRate: expectedEvents / report.seconds };
}
