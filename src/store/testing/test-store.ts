/**
 * For tests: a fresh, empty store target on the backend the run asks for. `NOMINE_TEST_STORE=postgres` gives a new
 * PostgreSQL database per call (on the server in NOMINE_TEST_POSTGRES_URL, else the URL that
 * scripts/start-services.sh wrote to /var/lib/nomine-test/postgres-url), dropped again by `drop()`; anything else
 * (the default) a temporary data directory for SQLite. A run that asks for PostgreSQL and cannot reach it fails:
 * it never falls back to SQLite, or a broken database would pass as green.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { redactUrl } from '../store-location.ts';

export type TestStoreKind = 'sqlite' | 'postgres';

export interface TestStore {
  kind: TestStoreKind;
  /** What openStore takes: the data directory, or the new database's URL. */
  target: string;
  /** A temporary directory for the test's other files (the SQLite file lives here too). */
  home: string;
  drop(): Promise<void>;
}

export const postgresUrlFile = '/var/lib/nomine-test/postgres-url';
const databasePrefix = 'nomine_t_';

export function testStoreKind(env: NodeJS.ProcessEnv = process.env): TestStoreKind {
  const kind = env.NOMINE_TEST_STORE ?? 'sqlite';
  if (kind !== 'sqlite' && kind !== 'postgres') throw new Error(`NOMINE_TEST_STORE must be sqlite or postgres, not ${JSON.stringify(kind)}`);
  return kind;
}

/** The URL of the test role's own database, from which per-test databases are made. */
export function testPostgresUrl(env: NodeJS.ProcessEnv = process.env): string {
  if (env.NOMINE_TEST_POSTGRES_URL) return env.NOMINE_TEST_POSTGRES_URL;
  try {
    return readFileSync(postgresUrlFile, 'utf8').trim();
  } catch (error) {
    throw new Error(
      `NOMINE_TEST_STORE=postgres needs a PostgreSQL server: set NOMINE_TEST_POSTGRES_URL, or run scripts/start-services.sh as root to write ${postgresUrlFile} (${(error as Error).message})`,
    );
  }
}

export async function createTestStore(prefix = 'nomine-store-'): Promise<TestStore> {
  const kind = testStoreKind();
  const home = await mkdtemp(join(tmpdir(), prefix));
  if (kind === 'sqlite') return { kind, target: home, home, drop: () => rm(home, { recursive: true, force: true }) };
  try {
    const url = await createTestDatabase(testPostgresUrl());
    return {
      kind,
      target: url,
      home,
      async drop() {
        await dropTestDatabase(url);
        await rm(home, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(home, { recursive: true, force: true });
    throw error;
  }
}

/** A new database on the server of `adminUrl`, owned by its user; its URL. Databases of dead test runs go first. */
export async function createTestDatabase(adminUrl: string): Promise<string> {
  const name = `${databasePrefix}${process.pid}_${randomBytes(6).toString('hex')}`;
  await withClient(adminUrl, async (client) => {
    await dropAbandoned(client);
    await client.query(`create database ${name}`);
  });
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function dropTestDatabase(url: string): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  if (!name.startsWith(databasePrefix)) throw new Error(`refusing to drop ${name}: not a test database`);
  const admin = testPostgresUrl();
  // WITH (FORCE) ends connections a test left open (PostgreSQL 13 and later). It still refuses while a backend it
  // may not end works in the database (an autovacuum worker just started on it): such a backend ends soon, so try
  // again for a while.
  await withClient(admin, async (client) => {
    for (let attempt = 1; ; attempt += 1) {
      try {
        await client.query(`drop database if exists ${name} with (force)`);
        return;
      } catch (error) {
        if (attempt >= 20) throw error;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
  });
}

async function dropAbandoned(client: pg.Client): Promise<void> {
  // Only names the pattern below accepts are dropped (LIKE's `_` matches any character, so it only narrows).
  const { rows } = await client.query<{ datname: string }>(`select datname from pg_database where datname like 'nomine%'`);
  for (const { datname } of rows) {
    const pid = Number(/^nomine_t_(\d+)_[0-9a-f]+$/.exec(datname)?.[1]);
    if (!Number.isInteger(pid) || isAlive(pid)) continue;
    await client.query(`drop database if exists ${datname} with (force)`).catch(() => {});
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function withClient<T>(url: string, action: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (error) {
    throw new Error(
      `NOMINE_TEST_STORE=postgres, but PostgreSQL at ${redactUrl(url)} cannot be used: ${(error as Error).message} (start it with scripts/start-services.sh as root)`,
      { cause: error },
    );
  }
  try {
    return await action(client);
  } finally {
    await client.end().catch(() => {});
  }
}
