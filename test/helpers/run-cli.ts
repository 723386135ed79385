/**
 * Running the built CLI as a user does: `node bin/nomine.js ARGS` in a child process with its own `$NOMINE_HOME`,
 * optional standard input, and a timeout; the result is what a person or a pipeline sees (exit code, stdout,
 * stderr). Inherited NOMINE_* variables are dropped so a developer's own settings cannot leak into a test.
 */
import { spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repositoryRoot = fileURLToPath(new URL('../../', import.meta.url));
export const cliEntry = join(repositoryRoot, 'bin/nomine.js');

export interface CliResult {
  /** Exit code, or null when the process was killed by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  durationMs: number;
}

export interface RunOptions {
  /** `$NOMINE_HOME` for this run: required, so no test ever touches the default data directory. */
  home: string;
  /** Extra environment; `undefined` removes a variable. */
  env?: Record<string, string | undefined>;
  /** Written to standard input, which is then closed; without it standard input is ignored (no terminal). */
  input?: string;
  timeoutMs?: number;
  cwd?: string;
  /** Called with the output so far whenever more arrives, and a way to signal the process (talking to a running demo). */
  onStdout?: (stdout: string, signal: (name: NodeJS.Signals) => void) => void;
}

/** A fresh data directory for one test. */
export async function tempHome(prefix = 'nomine-e2e-home-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

function childEnvironment(home: string, extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('NOMINE_')) env[key] = value;
  env.NOMINE_HOME = home;
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

/** Runs `node ARGS` (a script, or `--import tsx script.ts`) with the same environment rules as `runCli`. */
export function runNode(args: string[], options: RunOptions): Promise<CliResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: options.cwd ?? repositoryRoot,
      env: childEnvironment(options.home, options.env),
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      options.onStdout?.(stdout, (name) => child.kill(name));
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? 60_000);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut, durationMs: Date.now() - started });
    });
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** Runs `node bin/nomine.js ARGS`. */
export function runCli(args: string[], options: RunOptions): Promise<CliResult> {
  return runNode([cliEntry, ...args], options);
}

/** The parsed stdout of a `--json` or `--format sarif` run; the error says what the CLI printed instead. */
export function parseStdout<T = any>(result: CliResult): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(`stdout is not JSON (exit ${result.code}):\n${result.stdout.slice(0, 2000)}\nstderr:\n${result.stderr.slice(0, 2000)}`);
  }
}

/** One line for assertion messages. */
export function describeRun(result: CliResult): string {
  // The ends say what went wrong: a long run's start is seldom where it failed.
  const ends = (text: string) => (text.length <= 3000 ? text : `${text.slice(0, 1000)}\n[…]\n${text.slice(-2000)}`);
  return `exit ${result.code}${result.signal ? ` (signal ${result.signal})` : ''}${result.timedOut ? ' (timed out)' : ''} after ${result.durationMs} ms\nstderr: ${ends(result.stderr)}\nstdout: ${ends(result.stdout)}`;
}
