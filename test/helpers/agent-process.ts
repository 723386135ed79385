/**
 * A running `nomine agent run` (or `watch`) in a child process for end-to-end tests: collects stderr (its log) and
 * the alerts file, waits for log lines, and stops it with SIGTERM the way an init system does.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Alert } from '../../src/alerts/alert.ts';
import { cliEntry, repositoryRoot } from './run-cli.ts';

export interface AgentProcess {
  child: ChildProcess;
  log(): string;
  stdout(): string;
  /** Resolves when the log matches, rejects with the log after `timeoutMs`. */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  alerts(file: string): Promise<Alert[]>;
  stop(): Promise<number | null>;
}

export function startAgent(args: string[], home: string, env: Record<string, string> = {}): AgentProcess {
  const childEnv: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('NOMINE_')) childEnv[key] = value;
  const child = spawn(process.execPath, [cliEntry, 'agent', ...args], { cwd: repositoryRoot, env: { ...childEnv, NOMINE_HOME: home, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  let stdout = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (log += chunk));
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return {
    child,
    log: () => log,
    stdout: () => stdout,
    async waitForLog(pattern, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const match = log.match(pattern);
        if (match) return match;
        if (child.exitCode !== null) break;
        await sleep(100);
      }
      throw new Error(`agent log never matched ${pattern} (exit ${child.exitCode}):\n${log.slice(-4000)}`);
    },
    async alerts(file) {
      const text = await readFile(file, 'utf8').catch(() => '');
      // Updates repeat an alert's id with a higher count: keep the latest of each.
      const byId = new Map<string, Alert>();
      for (const line of text.split('\n')) if (line.trim()) {
        const alert = JSON.parse(line) as Alert;
        byId.set(alert.id, alert);
      }
      return [...byId.values()];
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
