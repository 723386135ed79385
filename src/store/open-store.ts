/**
 * The store: one kysely database, migrated on open. Embedded SQLite in the data directory by default; the
 * PostgreSQL dialect joins here when the server needs it.
 */
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect, type MigrationProvider } from 'kysely';
import { NomineError } from '../core/errors.ts';
import { ensureDataHome } from '../platform/data-home.ts';
import { migrations } from './migrations.ts';
import type { Database } from './schema.ts';

const provider: MigrationProvider = { getMigrations: async () => migrations };

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
  const { error } = await new Migrator({ db, provider }).migrateToLatest();
  if (error) {
    await db.destroy();
    throw new NomineError('internal', `store migration failed: ${(error as Error).message}`, file, { cause: error });
  }
  return db;
}
