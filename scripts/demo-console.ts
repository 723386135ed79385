/**
 * The demo's console: a real `nomine server` on loopback with its own embedded SQLite store, an admin whose password
 * is made for this run only, an ingest token for the scan and audit reports, and a join token for the demo's agent.
 * Everything goes through the console's own API, as a person or a pipeline would use it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface DemoConsole {
  url: string;
  adminPassword: string;
  /** Files holding the ingest API token and the join token (mode 0600). */
  tokenFile: string;
  joinTokenFile: string;
  /** What the console holds now, read through its API as the admin. */
  contents(): Promise<{ reports: Record<string, number>; alerts: number; profiles: number; nodes: number }>;
  stop(): Promise<void>;
}

interface Session {
  cookie: string;
  csrf: string;
}

const startTimeoutMs = 30_000;

async function waitForUrl(child: ChildProcess, output: { text: string }): Promise<string> {
  const deadline = Date.now() + startTimeoutMs;
  while (Date.now() < deadline) {
    const url = /listening on (https?:\/\/\S+)/.exec(output.text)?.[1];
    if (url) return url.replace(/\/$/, '');
    if (child.exitCode !== null) throw new Error(`nomine server exited (${child.exitCode}): ${output.text.slice(-500)}`);
    await sleep(100);
  }
  throw new Error(`nomine server did not start within ${startTimeoutMs / 1000} s: ${output.text.slice(-500)}`);
}

async function call<T>(url: string, path: string, init: { method?: string; body?: unknown; session?: Session } = {}): Promise<T> {
  const headers: Record<string, string> = {};
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  if (init.session) {
    headers.cookie = init.session.cookie;
    headers['x-csrf-token'] = init.session.csrf;
  }
  const response = await fetch(`${url}${path}`, { method: init.method ?? 'GET', headers, ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}) });
  const text = await response.text();
  if (!response.ok) throw new Error(`console ${init.method ?? 'GET'} ${path}: ${response.status} ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

export async function startDemoConsole(work: string): Promise<DemoConsole> {
  const home = join(work, 'console');
  await mkdir(home, { recursive: true, mode: 0o700 });
  // Made for this run, printed once at the end: the demo's console has no default password either.
  const adminPassword = randomBytes(12).toString('base64url');
  const output = { text: '' };
  const child = spawn(process.execPath, ['bin/nomine.js', 'server', '--listen', '127.0.0.1:0'], {
    env: { ...process.env, NOMINE_HOME: home, NOMINE_ADMIN_PASSWORD: adminPassword },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (chunk: Buffer) => (output.text += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output.text += chunk.toString()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await Promise.race([exited, sleep(5000).then(() => child.kill('SIGKILL'))]);
  };
  try {
    const url = await waitForUrl(child, output);
    const login = await fetch(`${url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: adminPassword }) });
    if (!login.ok) throw new Error(`console login: ${login.status} ${await login.text()}`);
    const session: Session = { cookie: (login.headers.get('set-cookie') ?? '').split(';')[0]!, csrf: ((await login.json()) as { csrfToken: string }).csrfToken };
    const ingest = await call<{ token: string }>(url, '/api/tokens', { method: 'POST', session, body: { name: 'make-demo-reports', role: 'ingest' } });
    const join_ = await call<{ token: string }>(url, '/api/join-tokens', { method: 'POST', session, body: { name: 'make-demo-node', ttlSeconds: 3600, maxUses: 4 } });
    const tokenFile = join(home, 'ingest-token');
    const joinTokenFile = join(home, 'join-token');
    await writeFile(tokenFile, `${ingest.token}\n`, { mode: 0o600 });
    await writeFile(joinTokenFile, `${join_.token}\n`, { mode: 0o600 });
    return {
      url,
      adminPassword,
      tokenFile,
      joinTokenFile,
      async contents() {
        const reports: Record<string, number> = {};
        const listed = await call<{ reports: { kind: string }[] }>(url, '/api/reports?limit=500', { session });
        for (const report of listed.reports) reports[report.kind] = (reports[report.kind] ?? 0) + 1;
        const alerts = await call<{ alerts: unknown[] }>(url, '/api/alerts?limit=200', { session });
        const profiles = await call<{ profiles: unknown[] }>(url, '/api/profiles', { session });
        const nodes = await call<{ nodes: unknown[] }>(url, '/api/nodes', { session });
        return { reports, alerts: alerts.alerts.length, profiles: profiles.profiles.length, nodes: nodes.nodes.length };
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
