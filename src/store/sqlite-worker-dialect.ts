/**
 * The SQLite dialect the server uses: kysely's SQLite compiler and adapter over a driver whose statements run in two
 * worker threads (sqlite-worker.ts), each with its own connection. The event loop then stays free while SQLite
 * works and fsyncs, so a person's page is answered while agents' batches are written. Selects outside transactions
 * go to the reader, so they never wait for a write; transactions and writes outside them take the writer in turn
 * (one transaction at a time, as SQLite allows anyway).
 */
import type { Worker } from 'node:worker_threads';
import {
  CompiledQuery,
  SelectQueryNode,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type Kysely,
  type QueryCompiler,
  type QueryResult,
} from 'kysely';
import { NomineError } from '../core/errors.ts';
import { siblingModule, startModuleWorker } from '../platform/source-module.ts';
import type { SqliteReply, SqliteRequest, SqliteWorkerData, SqliteWorkerMessage } from './sqlite-worker.ts';

const workerUrl = siblingModule(import.meta.url, 'sqlite-worker');

function startWorker(data: SqliteWorkerData): Worker {
  return startModuleWorker(workerUrl, { workerData: data });
}

export class SqliteWorkerDialect implements Dialect {
  constructor(readonly file: string) {}

  createAdapter(): DialectAdapter {
    return new SqliteAdapter();
  }

  createDriver(): Driver {
    return new SqliteWorkerDriver(this.file);
  }

  createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    return new SqliteIntrospector(db);
  }

  createQueryCompiler(): QueryCompiler {
    return new SqliteQueryCompiler();
  }
}

/** The writer in turn: first come, first served. */
class Turn {
  #held = false;
  readonly #waiting: (() => void)[] = [];

  async take(): Promise<void> {
    if (!this.#held) {
      this.#held = true;
      return;
    }
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
  }

  give(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#held = false;
  }
}

class WorkerConnection implements DatabaseConnection {
  inTransaction = false;
  constructor(readonly driver: SqliteWorkerDriver) {}

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    if (this.inTransaction) return this.driver.writer.run<R>(query);
    if (SelectQueryNode.is(query.query)) return this.driver.reader.run<R>(query);
    await this.driver.writerTurn.take();
    try {
      return await this.driver.writer.run<R>(query);
    } finally {
      this.driver.writerTurn.give();
    }
  }

  // eslint-disable-next-line require-yield
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new NomineError('unsupported', 'the SQLite store does not stream query results', 'store');
  }
}

/** One worker thread with its connection: statements in, answers out, in order. */
class SqliteThread {
  readonly #file: string;
  readonly #pending = new Map<number, { resolve: (reply: SqliteReply & { ok: true }) => void; reject: (error: Error) => void }>();
  #worker: Worker | undefined;
  #nextId = 1;
  #failure: Error | undefined;

  constructor(file: string) {
    this.#file = file;
  }

  async start(): Promise<void> {
    const worker = startWorker({ file: this.#file });
    this.#worker = worker;
    await new Promise<void>((resolve, reject) => {
      worker.on('message', (message: SqliteWorkerMessage) => {
        if (!('ready' in message)) return this.#settle(message);
        if (!message.ready) return reject(Object.assign(new Error(message.message), { code: message.code }));
        worker.unref();
        resolve();
      });
      worker.once('error', (error) => {
        this.#fail(error);
        reject(error);
      });
      worker.once('exit', (code) => {
        this.#fail(new NomineError('internal', `the store's SQLite worker stopped (exit code ${code})`, this.#file));
        reject(this.#failure);
      });
    });
  }

  run<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    if (this.#failure || !this.#worker) return Promise.reject(this.#failure ?? new NomineError('internal', 'the store is closed', this.#file));
    const worker = this.#worker;
    const id = this.#nextId++;
    const request: SqliteRequest = { id, sql: query.sql, parameters: [...query.parameters] };
    return new Promise<SqliteReply & { ok: true }>((resolve, reject) => {
      // The worker keeps the process alive only while it owes an answer: a command that forgets to close the store
      // still ends, and one that awaits a query is not ended before its answer.
      if (this.#pending.size === 0) worker.ref();
      this.#pending.set(id, { resolve, reject });
      worker.postMessage(request);
    }).then((reply) => ({
      rows: reply.rows.map(asBuffers) as R[],
      ...(reply.changes !== undefined ? { numAffectedRows: BigInt(reply.changes) } : {}),
      ...(reply.lastInsertRowid !== undefined ? { insertId: BigInt(reply.lastInsertRowid) } : {}),
    }));
  }

  async stop(): Promise<void> {
    const worker = this.#worker;
    if (!worker) return;
    this.#worker = undefined;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.ref();
    worker.postMessage({ close: true });
    await exited;
  }

  #settle(reply: SqliteReply): void {
    const pending = this.#pending.get(reply.id);
    if (!pending) return;
    this.#pending.delete(reply.id);
    if (this.#pending.size === 0) this.#worker?.unref();
    if (reply.ok) pending.resolve(reply);
    // The driver's error as SQLite said it, with its code (SQLITE_CONSTRAINT_UNIQUE…), as better-sqlite3 throws it.
    else pending.reject(Object.assign(new Error(reply.message), { code: reply.code }));
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    for (const { reject } of this.#pending.values()) reject(this.#failure);
    this.#pending.clear();
  }
}

class SqliteWorkerDriver implements Driver {
  readonly writerTurn = new Turn();
  readonly writer: SqliteThread;
  readonly reader: SqliteThread;

  constructor(file: string) {
    this.writer = new SqliteThread(file);
    this.reader = new SqliteThread(file);
  }

  async init(): Promise<void> {
    // The writer first: it sets the file to WAL, which the reader then finds.
    await this.writer.start();
    await this.reader.start();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    return new WorkerConnection(this);
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await this.writerTurn.take();
    try {
      await this.writer.run(CompiledQuery.raw('begin'));
      (connection as WorkerConnection).inTransaction = true;
    } catch (error) {
      this.writerTurn.give();
      throw error;
    }
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await this.#end(connection, 'commit');
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await this.#end(connection, 'rollback');
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    // A transaction kysely abandoned (it should not) must not keep the writer forever.
    if ((connection as WorkerConnection).inTransaction) await this.#end(connection, 'rollback').catch(() => {});
  }

  async destroy(): Promise<void> {
    await this.reader.stop();
    await this.writer.stop();
  }

  async #end(connection: DatabaseConnection, statement: 'commit' | 'rollback'): Promise<void> {
    const worker = connection as WorkerConnection;
    if (!worker.inTransaction) return;
    try {
      await this.writer.run(CompiledQuery.raw(statement));
    } finally {
      worker.inTransaction = false;
      this.writerTurn.give();
    }
  }
}

// Structured cloning turns the worker's Buffers into plain Uint8Arrays; the store hands out Buffers.
function asBuffers(row: unknown): unknown {
  if (row === null || typeof row !== 'object') return row;
  for (const [key, value] of Object.entries(row)) {
    if (value instanceof Uint8Array && !Buffer.isBuffer(value)) (row as Record<string, unknown>)[key] = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  }
  return row;
}
