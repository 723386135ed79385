/**
 * Opening the store's SQLite file, the same way for every connection to it (a command's, and the server's writer
 * and reader threads): WAL, so readers never wait for the writer, and a busy timeout, so a connection that finds the
 * file locked by another waits for it instead of failing at once.
 */
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { NomineError } from '../core/errors.ts';

/** The store's SQLite file in a data directory. */
export function storeFileIn(home: string): string {
  return join(home, 'nomine.db');
}

export function openSqliteFile(file: string): SQLite.Database {
  const db = new SQLite(file);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  return db;
}

/** The store's file opened as above; a file that will not open (not a database, no permission) is named in the error. */
export function openStoreFile(file: string): SQLite.Database {
  try {
    return openSqliteFile(file);
  } catch (error) {
    throw new NomineError('invalid-input', `cannot open the store: ${(error as Error).message}`, file, { cause: error });
  }
}
