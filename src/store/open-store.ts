/**
 * The store: one kysely database, migrated on open. Embedded SQLite in the data directory by default, or PostgreSQL
 * when the target is a `postgres://` URL (the console's clusters); the same migrations and queries run on both.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Kysely, Migrator, SqliteDialect, sql, type MigrationProvider } from 'kysely';
import { NomineError } from '../core/errors.ts';
import { ensureDataHome } from '../platform/data-home.ts';
import { migrations } from './migrations.ts';
import { serverMigrations } from './migrations-server.ts';
import type { PostgresStoreOptions } from './postgres-dialect.ts';
import { postgresFailure } from './postgres-failure.ts';
import { openStoreFile, storeFileIn } from './sqlite-file.ts';
import { SqliteWorkerDialect } from './sqlite-worker-dialect.ts';
import { redactUrl, storeLocationOf, type StoreLocation } from './store-location.ts';
import type { Database } from './schema.ts';

const migrationAttempts = 5;

// One store for every command: the core's and the server's migrations run together, so a store any command opened
// first is one every other command can open.
const provider: MigrationProvider = { getMigrations: async () => ({ ...migrations, ...serverMigrations }) };

export interface StoreOptions extends PostgresStoreOptions {
  /**
   * SQLite only: run the statements in a worker thread (sqlite-worker-dialect.ts), so the event loop never waits
   * for SQLite. For the server, which answers people while agents write; a command has nothing else to do meanwhile.
   */
  sqliteWorker?: boolean;
}

/** `target`: a data directory (SQLite file `nomine.db` in it) or a `postgres://` / `postgresql://` URL. */
export async function openStore(target: string | StoreLocation, options: StoreOptions = {}): Promise<Kysely<Database>> {
  const location = typeof target === 'string' ? storeLocationOf(target) : target;
  if (location.kind === 'postgres') return openPostgres(location.url, options);
  return options.sqliteWorker ? openSqliteWorker(location.home) : openSqlite(location.home);
}

async function openSqliteWorker(dataHome: string): Promise<Kysely<Database>> {
  const file = storeFileIn(ensureDataHome(dataHome));
  const db = new Kysely<Database>({ dialect: new SqliteWorkerDialect(file) });
  try {
    await sql`select 1`.execute(db);
  } catch (error) {
    await db.destroy();
    throw new NomineError('invalid-input', `cannot open the store: ${(error as Error).message}`, file, { cause: error });
  }
  return migrated(db, file);
}

async function openSqlite(dataHome: string): Promise<Kysely<Database>> {
  const file = storeFileIn(ensureDataHome(dataHome));
  return migrated(new Kysely<Database>({ dialect: new SqliteDialect({ database: openStoreFile(file) }) }), file);
}

async function openPostgres(url: string, options: StoreOptions): Promise<Kysely<Database>> {
  const where = redactUrl(url);
  // pg is loaded only for PostgreSQL: every command opens a store, most of them the embedded one.
  const { PostgresStoreDialect, createPostgresPool } = await import('./postgres-dialect.ts');
  const db = new Kysely<Database>({ dialect: new PostgresStoreDialect(url, createPostgresPool(url, options)) });
  try {
    // One query first, so an unreachable server, a wrong password or a missing database is said as such.
    await sql`select 1`.execute(db);
  } catch (error) {
    await db.destroy();
    throw postgresFailure(error, where, true) ?? error;
  }
  return migrated(db, where);
}

async function migrated(db: Kysely<Database>, where: string): Promise<Kysely<Database>> {
  const migrator = new Migrator({ db, provider, allowUnorderedMigrations: true });
  // Kysely takes no lock on SQLite, so two commands opening a new store at once can both start the first
  // migration; the loser's transaction rolls back, and on a retry it finds the migrations applied. (PostgreSQL
  // has kysely's lock, and needs no retry.)
  for (let attempt = 1; ; attempt += 1) {
    const { error } = await migrator.migrateToLatest();
    if (!error) return db;
    if (attempt === migrationAttempts || error instanceof NomineError) {
      await db.destroy();
      if (error instanceof NomineError) throw error;
      throw new NomineError('internal', `store migration failed: ${(error as Error).message}`, where, { cause: error });
    }
    await sleep(50 * attempt);
  }
}
