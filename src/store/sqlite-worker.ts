/**
 * A SQLite worker thread: owns one connection to the store file and runs the statements the main thread sends, one
 * at a time, in the order they arrive. The store starts two: the writer (transactions and every write) and the
 * reader (selects outside transactions; WAL lets it read the last commit while the writer's transaction is open).
 * better-sqlite3 is synchronous, so in the main thread every statement, and every fsync of a commit, would stop the
 * event loop; here it stops only this thread, and a read never waits behind a write.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type SQLite from 'better-sqlite3';
import { openSqliteFile } from './sqlite-file.ts';

export interface SqliteWorkerData {
  file: string;
}

export interface SqliteRequest {
  id: number;
  sql: string;
  parameters: unknown[];
}

export type SqliteReply =
  | { id: number; ok: true; rows: unknown[]; changes?: number; lastInsertRowid?: number | bigint }
  | { id: number; ok: false; message: string; code?: string };

export type SqliteWorkerMessage = { ready: true } | { ready: false; message: string; code?: string } | SqliteReply;

// Structured cloning turns a Buffer into a plain Uint8Array; better-sqlite3 binds blobs from Buffers.
function bindable(value: unknown): unknown {
  return value instanceof Uint8Array && !Buffer.isBuffer(value) ? Buffer.from(value.buffer, value.byteOffset, value.byteLength) : value;
}

const port = parentPort!;
const { file } = workerData as SqliteWorkerData;
let db: SQLite.Database;
try {
  db = openSqliteFile(file);
  port.postMessage({ ready: true } satisfies SqliteWorkerMessage);
} catch (error) {
  port.postMessage({ ready: false, message: (error as Error).message, code: (error as { code?: string }).code } satisfies SqliteWorkerMessage);
  process.exit(1);
}

port.on('message', (request: SqliteRequest | { close: true }) => {
  if ('close' in request) {
    // The last connection to close checkpoints the WAL into the database file.
    db.close();
    port.close();
    return;
  }
  let reply: SqliteReply;
  try {
    const statement = db.prepare(request.sql);
    const parameters = request.parameters.map(bindable);
    if (statement.reader) {
      reply = { id: request.id, ok: true, rows: statement.all(parameters) };
    } else {
      const { changes, lastInsertRowid } = statement.run(parameters);
      reply = { id: request.id, ok: true, rows: [], changes, lastInsertRowid };
    }
  } catch (error) {
    reply = { id: request.id, ok: false, message: (error as Error).message, code: (error as { code?: string }).code };
  }
  port.postMessage(reply);
});
