/**
 * The demo's console: a real `nomine server` on loopback with its own embedded SQLite store, an admin whose password
 * is made for this run only, an ingest token for the scan and audit reports, and a join token for the demo's agent.
 * Everything goes through the console's own API, as a person or a pipeline would use it.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent } from 'undici';
import { call as callApi, login, type Http, type Session } from '../bench/server-load.ts';
import { startConsoleServer } from '../test/helpers/console-server.ts';

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

async function call<T>(http: Http, session: Session, path: string, body?: unknown): Promise<T> {
  const method = body === undefined ? 'GET' : 'POST';
  const answer = await callApi(http, method, path, { headers: { cookie: session.cookie, 'x-csrf-token': session.csrf }, ...(body !== undefined ? { body } : {}) });
  if (answer.status < 200 || answer.status >= 300) throw new Error(`console ${method} ${path}: ${answer.status} ${JSON.stringify(answer.json)?.slice(0, 300)}`);
  return answer.json as T;
}

export async function startDemoConsole(work: string): Promise<DemoConsole> {
  const home = join(work, 'console');
  await mkdir(home, { recursive: true, mode: 0o700 });
  // Made for this run, printed once at the end: the demo's console has no default password either.
  const adminPassword = randomBytes(12).toString('base64url');
  const server = await startConsoleServer(home, [], { NOMINE_ADMIN_PASSWORD: adminPassword });
  const url = server.url.replace(/\/$/, '');
  const http: Http = { base: url, dispatcher: new Agent() };
  const stop = async () => {
    await http.dispatcher.close().catch(() => undefined);
    if (server.child.exitCode !== null || server.child.signalCode !== null) return;
    await Promise.race([server.stop(), sleep(5000).then(() => server.child.kill('SIGKILL'))]);
  };
  try {
    const session = await login(http, 'admin', adminPassword);
    const ingest = await call<{ token: string }>(http, session, '/api/tokens', { name: 'make-demo-reports', role: 'ingest' });
    const join_ = await call<{ token: string }>(http, session, '/api/join-tokens', { name: 'make-demo-node', ttlSeconds: 3600, maxUses: 4 });
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
        const listed = await call<{ reports: { kind: string }[] }>(http, session, '/api/reports?limit=500');
        for (const report of listed.reports) reports[report.kind] = (reports[report.kind] ?? 0) + 1;
        const alerts = await call<{ alerts: unknown[] }>(http, session, '/api/alerts?limit=200');
        const profiles = await call<{ profiles: unknown[] }>(http, session, '/api/profiles');
        const nodes = await call<{ nodes: unknown[] }>(http, session, '/api/nodes');
        return { reports, alerts: alerts.alerts.length, profiles: profiles.profiles.length, nodes: nodes.nodes.length };
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
