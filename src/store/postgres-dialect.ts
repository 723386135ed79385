/**
 * The PostgreSQL dialect of the store: kysely's PostgresDialect over a pg Pool of its own, with two changes that
 * keep the store behaving as it does on SQLite. Its int8 and numeric columns come back as numbers (the tables keep
 * millisecond timestamps in bigint; pg would hand out strings), and a failure to reach the database surfaces as one
 * NomineError `unreachable` (HTTP 503 in the server) naming the redacted URL, instead of a driver error or, for an
 * idle connection the server terminated, an unhandled 'error' event that would end the process.
 */
import pg from 'pg';
import {
  PostgresDialect,
  type CompiledQuery,
  type DatabaseConnection,
  type Driver,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';
import { postgresFailure } from './postgres-failure.ts';
import { redactUrl } from './store-location.ts';

export interface PostgresStoreOptions {
  /** Connections the pool may hold at once. */
  poolSize?: number;
  /** How long a request waits for a connection before it is refused as unreachable. */
  connectTimeoutMs?: number;
}

const int8Oid = 20;
const numericOid = 1700;
const asNumber = (value: string): number => Number(value);

// Per pool, not pg.types: other users of pg in the process keep its defaults.
const numberTypes: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === int8Oid || oid === numericOid ? asNumber : pg.types.getTypeParser(oid, format ?? 'text')) as pg.CustomTypesConfig['getTypeParser'],
};

export function createPostgresPool(url: string, options: PostgresStoreOptions = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
    idleTimeoutMillis: 30_000,
    application_name: 'nomine',
    types: numberTypes,
  });
  // An idle connection the server ended (restart, pg_terminate_backend) is dropped by the pool; without a
  // listener that 'error' would be thrown as an unhandled event. Connections in use report to their query.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  return pool;
}

export class PostgresStoreDialect extends PostgresDialect {
  readonly #where: string;
  constructor(url: string, pool: pg.Pool) {
    super({ pool });
    this.#where = redactUrl(url);
  }

  override createDriver(): Driver {
    return new FailureNamingDriver(super.createDriver(), this.#where);
  }
}

/** Delegates to kysely's driver; connection failures become NomineErrors, other errors pass unchanged. */
class FailureNamingDriver implements Driver {
  readonly #inner: Driver;
  readonly #where: string;
  readonly #wrapped = new WeakMap<DatabaseConnection, DatabaseConnection>();

  constructor(inner: Driver, where: string) {
    this.#inner = inner;
    this.#where = where;
  }

  init(): Promise<void> {
    return this.#inner.init();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    let connection: DatabaseConnection;
    try {
      connection = await this.#inner.acquireConnection();
    } catch (error) {
      throw postgresFailure(error, this.#where, true) ?? error;
    }
    const where = this.#where;
    const wrapper: DatabaseConnection = {
      async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
        try {
          return await connection.executeQuery<R>(query);
        } catch (error) {
          throw postgresFailure(error, where, false) ?? error;
        }
      },
      streamQuery: <R>(query: CompiledQuery, chunkSize?: number) => connection.streamQuery<R>(query, chunkSize),
    };
    this.#wrapped.set(wrapper, connection);
    return wrapper;
  }

  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return this.#named(() => this.#inner.beginTransaction(this.#unwrap(connection), settings));
  }

  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return this.#named(() => this.#inner.commitTransaction(this.#unwrap(connection)));
  }

  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return this.#named(() => this.#inner.rollbackTransaction(this.#unwrap(connection)));
  }

  savepoint(connection: DatabaseConnection, name: string, compile: Parameters<NonNullable<Driver['savepoint']>>[2]): Promise<void> {
    return this.#named(() => this.#inner.savepoint!(this.#unwrap(connection), name, compile));
  }

  rollbackToSavepoint(connection: DatabaseConnection, name: string, compile: Parameters<NonNullable<Driver['rollbackToSavepoint']>>[2]): Promise<void> {
    return this.#named(() => this.#inner.rollbackToSavepoint!(this.#unwrap(connection), name, compile));
  }

  releaseSavepoint(connection: DatabaseConnection, name: string, compile: Parameters<NonNullable<Driver['releaseSavepoint']>>[2]): Promise<void> {
    return this.#named(() => this.#inner.releaseSavepoint!(this.#unwrap(connection), name, compile));
  }

  releaseConnection(connection: DatabaseConnection): Promise<void> {
    return this.#inner.releaseConnection(this.#unwrap(connection));
  }

  destroy(): Promise<void> {
    return this.#inner.destroy();
  }

  #unwrap(connection: DatabaseConnection): DatabaseConnection {
    return this.#wrapped.get(connection) ?? connection;
  }

  async #named(action: () => Promise<void>): Promise<void> {
    try {
      await action();
    } catch (error) {
      throw postgresFailure(error, this.#where, false) ?? error;
    }
  }
}
