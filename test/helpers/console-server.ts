/**
 * A real `nomine server` process for tests that drive the console over HTTP or in a browser: the built CLI on
 * 127.0.0.1 with a free port and its own $NOMINE_HOME, its URL and one-time setup link read from what it prints,
 * and a small JSON client for the API.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { cliEntry, repositoryRoot } from './run-cli.ts';

export interface ConsoleServer {
  child: ChildProcess;
  url: string;
  /** The link printed at first start (`…/setup#token=…`), when the store was new. */
  setupLink: string | undefined;
  output: { stdout: string; stderr: string };
  stop(): Promise<number | null>;
}

/** `extraEnv` is added to the server's environment (after any NOMINE_* of the test run is dropped). */
export function startConsoleServer(home: string, args: string[] = [], extraEnv: Record<string, string> = {}): Promise<ConsoleServer> {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('NOMINE_')) env[key] = value;
  const child = spawn(process.execPath, [cliEntry, 'server', '--listen', '127.0.0.1:0', ...args], {
    cwd: repositoryRoot,
    env: { ...env, NOMINE_HOME: home, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = { stdout: '', stderr: '' };
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the server printed no URL in time:\n${output.stdout}\n${output.stderr}`));
    }, 30_000);
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output.stderr += chunk));
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      output.stdout += chunk;
      const url = /listening on (https?:\/\/\S+)/.exec(output.stdout)?.[1];
      // The server prints its URL and any setup link in one write.
      if (!url) return;
      clearTimeout(timer);
      resolve({
        child,
        url,
        setupLink: /setup link .*?: (https?:\/\/\S+\/setup#token=\S+)/.exec(output.stdout)?.[1],
        output,
        stop: async () => {
          child.kill('SIGTERM');
          return exited;
        },
      });
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the server exited with ${code}:\n${output.stdout}\n${output.stderr}`));
    });
  });
}

export const webBuildIndex = join(repositoryRoot, 'web/dist/index.html');

/** Builds the web UI when no build is there (`npm run build` makes one; a test run straight after a checkout may not have). */
export function ensureWebBuild(): void {
  if (existsSync(webBuildIndex)) return;
  const result = spawnSync('npm', ['run', 'build:web'], { cwd: repositoryRoot, encoding: 'utf8', timeout: 300_000 });
  if (result.status !== 0 || !existsSync(webBuildIndex)) throw new Error(`npm run build:web failed:\n${result.stdout}\n${result.stderr}`);
}

export interface JsonAnswer {
  status: number;
  // Tests read answers of many shapes; each asserts what it relies on.
  json: any;
}

export async function callJson(url: string, options: { method?: string; body?: unknown; bearer?: string; headers?: Record<string, string> } = {}): Promise<JsonAnswer> {
  const response = await fetch(url, {
    method: options.method ?? 'GET',
    headers: {
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(options.bearer ? { authorization: `Bearer ${options.bearer}` } : {}),
      ...options.headers,
    },
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, json: text ? (JSON.parse(text) as unknown) : undefined };
}
