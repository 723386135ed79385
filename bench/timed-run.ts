/**
 * Runs one benchmark contender under GNU time, so wall time, CPU time (user + system, children included) and peak RSS
 * (max resident set of the process tree's largest member) are measured the same way for nomine and for every peer
 * tool. Also the CPU time the hypervisor took from this machine meanwhile (steal, all cores): on a shared virtual
 * machine that, not the contender, is what makes one round of the same program slower than another.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TimedRun {
  seconds: number;
  cpuSeconds: number;
  stealSeconds: number;
  peakRssMb: number;
  exitCode: number;
  /** Where stdout went; callers parse it (nomine's JSON, yara's match lines). */
  stdoutPath: string;
  stderrTail: string;
}

const GNU_TIME = '/usr/bin/time';
/** Kernel ticks per second in /proc/stat (USER_HZ; 100 on Linux). */
const ticksPerSecond = 100;

/** Steal seconds since boot, over all cores: the eighth value of /proc/stat's `cpu` line. */
function stealSinceBoot(): number {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/);
    return Number(fields[8] ?? 0) / ticksPerSecond;
  } catch {
    return 0;
  }
}

export async function timedRun(command: string, args: string[], stdoutPath: string, env: NodeJS.ProcessEnv = process.env): Promise<TimedRun> {
  const scratch = mkdtempSync(join(tmpdir(), 'nomine-bench-time-'));
  const timeFile = join(scratch, 'time.txt');
  const out = openSync(stdoutPath, 'w');
  const started = process.hrtime.bigint();
  const stealBefore = stealSinceBoot();
  const stderr: Buffer[] = [];
  const exitCode = await new Promise<number>((resolve, reject) => {
    const child = spawn(GNU_TIME, ['-f', '%e %M %U %S', '-o', timeFile, command, ...args], { env, stdio: ['ignore', out, 'pipe'] });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr.push(chunk);
      if (stderr.length > 64) stderr.shift();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve(code ?? -1));
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const stealSeconds = stealSinceBoot() - stealBefore;
  closeSync(out);
  // GNU time prints "Command exited with non-zero status N" before the format line when the child fails.
  const lines = readFileSync(timeFile, 'utf8').trim().split('\n');
  const [, maxRssKb, user, system] = (lines.at(-1) ?? '0 0 0 0').split(' ');
  rmSync(scratch, { recursive: true, force: true });
  return { seconds, cpuSeconds: Number(user) + Number(system), stealSeconds, peakRssMb: Number(maxRssKb) / 1024, exitCode, stdoutPath, stderrTail: Buffer.concat(stderr).toString('utf8').slice(-2000) };
}
