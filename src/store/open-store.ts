/**
 * The store: one kysely database, migrated on open. Embedded SQLite in the data directory by default; the
 * PostgreSQL dialect joins here when the server needs it.
 */
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect, type MigrationProvider } from 'kysely';
import { NomineError } from '../core/errors.ts';
import { ensureDataHome } from '../platform/data-home.ts';
import { migrations } from './migrations.ts';
import { serverMigrations } from './migrations-server.ts';
import type { Database } from './schema.ts';

const migrationAttempts = 5;

// One store for every command: the core's and the server's migrations run together, so a store any command opened
// first is one every other command can open.
const provider: MigrationProvider = { getMigrations: async () => ({ ...migrations, ...serverMigrations }) };

export async function openStore(dataHome: string): Promise<Kysely<Database>> {
  const file = join(ensureDataHome(dataHome), 'nomine.db');
  let sqlite: SQLite.Database;
  try {
    sqlite = new SQLite(file);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('busy_timeout = 5000');
  } catch (error) {
    throw new NomineError('invalid-input', `cannot open the store: ${(error as Error).message}`, file, { cause: error });
  }
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  const migrator = new Migrator({ db, provider, allowUnorderedMigrations: true });
  // Kysely takes no lock on SQLite, so two commands opening a new store at once can both start the first
  // migration; the loser's transaction rolls back, and on a retry it finds the migrations applied.
  for (let attempt = 1; ; attempt += 1) {
    const { error } = await migrator.migrateToLatest();
    if (!error) return db;
    if (attempt === migrationAttempts) {
      await db.destroy();
      throw new NomineError('internal', `store migration failed: ${(error as Error).message}`, file, { cause: error });
    }
    await sleep(50 * attempt);
  }
}
