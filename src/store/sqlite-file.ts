/**
 * Opening the store's SQLite file, the same way for every connection to it (a command's, and the server's writer
 * and reader threads): WAL, so readers never wait for the writer, and a busy timeout, so a connection that finds the
 * file locked by another waits for it instead of failing at once.
 */
import SQLite from 'better-sqlite3';

export function openSqliteFile(file: string): SQLite.Database {
  const db = new SQLite(file);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  return db;
}
