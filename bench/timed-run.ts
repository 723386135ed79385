/**
 * Runs one benchmark contender under GNU time, so wall time and peak RSS (max resident set of the process tree's
 * largest member) are measured the same way for nomine and for every peer tool.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TimedRun {
  seconds: number;
  peakRssMb: number;
  exitCode: number;
  /** Where stdout went; callers parse it (nomine's JSON, yara's match lines). */
  stdoutPath: string;
  stderrTail: string;
}

const GNU_TIME = '/usr/bin/time';

export async function timedRun(command: string, args: string[], stdoutPath: string, env: NodeJS.ProcessEnv = process.env): Promise<TimedRun> {
  const scratch = mkdtempSync(join(tmpdir(), 'nomine-bench-time-'));
  const timeFile = join(scratch, 'time.txt');
  const out = openSync(stdoutPath, 'w');
  const started = process.hrtime.bigint();
  const stderr: Buffer[] = [];
  const exitCode = await new Promise<number>((resolve, reject) => {
    const child = spawn(GNU_TIME, ['-f', '%e %M', '-o', timeFile, command, ...args], { env, stdio: ['ignore', out, 'pipe'] });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr.push(chunk);
      if (stderr.length > 64) stderr.shift();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve(code ?? -1));
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  closeSync(out);
  // GNU time prints "Command exited with non-zero status N" before the format line when the child fails.
  const lines = readFileSync(timeFile, 'utf8').trim().split('\n');
  const [, maxRssKb] = (lines.at(-1) ?? '0 0').split(' ');
  rmSync(scratch, { recursive: true, force: true });
  return { seconds, peakRssMb: Number(maxRssKb) / 1024, exitCode, stdoutPath, stderrTail: Buffer.concat(stderr).toString('utf8').slice(-2000) };
}
