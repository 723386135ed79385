/**
 * For tests: a server on a fresh store, a fake clock, and helpers to run setup, log in and create tokens through
 * the API itself (never by writing rows behind its back). The store is SQLite in a temporary directory, or, with
 * NOMINE_TEST_STORE=postgres, a new PostgreSQL database dropped on close: the same tests run against both.
 */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { createTestStore, type TestStoreKind } from '../../store/testing/test-store.ts';
import { bootstrap } from '../auth/setup-link.ts';
import { buildServer } from '../build-server.ts';
import { defaultServerLimits, type ServerLimits } from '../server-limits.ts';
import { openServerStore, type ServerStore } from '../server-store.ts';

export const adminPassword = 'correct horse battery staple';

export interface TestServer {
  app: FastifyInstance;
  db: ServerStore;
  /** A temporary directory for the test's files (the SQLite store lives here). */
  home: string;
  /** Which backend, and what `openServerStore` takes to open the same store again (a second replica). */
  store: { kind: TestStoreKind; target: string };
  clock: { now: number };
  setupToken: string;
  close(): Promise<void>;
}

export async function startTestServer(limits: Partial<ServerLimits> = {}): Promise<TestServer> {
  const store = await createTestStore('nomine-server-');
  let db: ServerStore;
  try {
    db = await openServerStore(store.target);
  } catch (error) {
    await store.drop();
    throw error;
  }
  const clock = { now: Date.parse('2026-01-01T00:00:00Z') };
  const boot = await bootstrap(db, { now: clock.now, setupLinkTtlMs: limits.setupLinkTtlMs ?? defaultServerLimits.setupLinkTtlMs });
  if (boot.state !== 'setup-link') throw new Error('a fresh store must need setup');
  const app = await buildServer({ db, now: () => clock.now, limits });
  await app.ready();
  return {
    app,
    db,
    home: store.home,
    store: { kind: store.kind, target: store.target },
    clock,
    setupToken: boot.token,
    async close() {
      await app.close();
      await db.destroy();
      await store.drop();
    },
  };
}

export interface Session {
  cookie: string;
  csrfToken: string;
}

export function sessionHeaders(session: Session, withCsrf = true): Record<string, string> {
  return { cookie: session.cookie, ...(withCsrf ? { 'x-csrf-token': session.csrfToken } : {}) };
}

export async function login(app: FastifyInstance, username: string, password: string, ip = '127.0.0.1'): Promise<Session> {
  const response = await app.inject({ method: 'POST', url: '/api/login', payload: { username, password }, remoteAddress: ip });
  if (response.statusCode !== 200) throw new Error(`login failed: ${response.statusCode} ${response.body}`);
  return { cookie: cookieOf(response), csrfToken: response.json<{ csrfToken: string }>().csrfToken };
}

export function cookieOf(response: LightMyRequestResponse): string {
  const header = response.headers['set-cookie'];
  const first = Array.isArray(header) ? header[0] : header;
  if (!first) throw new Error('no Set-Cookie');
  return first.split(';')[0]!;
}

/** Setup done, the admin logged in. */
export async function withAdmin(server: TestServer): Promise<Session> {
  const response = await server.app.inject({ method: 'POST', url: '/api/setup', payload: { token: server.setupToken, username: 'admin', password: adminPassword } });
  if (response.statusCode !== 201) throw new Error(`setup failed: ${response.statusCode} ${response.body}`);
  return login(server.app, 'admin', adminPassword, '10.0.0.1');
}

export async function createToken(app: FastifyInstance, admin: Session, role: string, name = `${role}-token`): Promise<{ token: string; id: string }> {
  const response = await app.inject({ method: 'POST', url: '/api/tokens', headers: sessionHeaders(admin), payload: { name, role } });
  if (response.statusCode !== 201) throw new Error(`token creation failed: ${response.statusCode} ${response.body}`);
  const body = response.json<{ token: string; details: { id: string } }>();
  return { token: body.token, id: body.details.id };
}

export function sampleEnvelope(kind = 'scan', report: Record<string, unknown> = { images: [] }): Record<string, unknown> {
  return { kind, tool: { name: 'nomine', version: '0.1.0' }, generatedAt: '2026-01-01T00:00:00Z', report };
}
