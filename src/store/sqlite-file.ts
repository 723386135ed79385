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

const busyTimeoutMs = 5000;
const retryPause = new Int32Array(new SharedArrayBuffer(4));

export function openSqliteFile(file: string): SQLite.Database {
  const db = new SQLite(file, { timeout: busyTimeoutMs });
  try {
    enableWal(db);
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}

/**
 * SQLite answers a journal-mode change at once with SQLITE_BUSY, without calling the busy handler, while another
 * connection switches a new file to WAL: two commands started together on a fresh data directory met that. So the
 * switch is retried, within the same budget as any other wait for a lock.
 */
function enableWal(db: SQLite.Database): void {
  const deadline = Date.now() + busyTimeoutMs;
  for (;;) {
    try {
      db.pragma('journal_mode = WAL');
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== 'SQLITE_BUSY' || Date.now() >= deadline) throw error;
      Atomics.wait(retryPause, 0, 0, 10); // a synchronous pause: opening a database is synchronous
    }
  }
}

/** The store's file opened as above; a file that will not open (not a database, no permission) is named in the error. */
export function openStoreFile(file: string): SQLite.Database {
  try {
    return openSqliteFile(file);
  } catch (error) {
    throw new NomineError('invalid-input', `cannot open the store: ${(error as Error).message}`, file, { cause: error });
  }
}
