/**
 * The server's tables (users, sessions, API tokens, setup links, ingested reports) as migrations of the one store.
 * Keys start at 1000 so they sort after the core store's migrations whatever those add. Secrets are stored only
 * as SHA-256 digests (tokens) or argon2id hashes (passwords). Never edit a shipped migration: add one.
 */
import { sql, type Kysely, type Migration } from 'kysely';

export const serverMigrations: Record<string, Migration> = {
  '1000-server-auth-and-reports': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('server_users')
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('username', 'text', (column) => column.notNull().unique())
        .addColumn('password_hash', 'text', (column) => column.notNull())
        .addColumn('role', 'text', (column) => column.notNull())
        .addColumn('created_at', 'bigint', (column) => column.notNull())
        .addColumn('updated_at', 'bigint', (column) => column.notNull())
        .execute();
      await db.schema
        .createTable('server_sessions')
        .addColumn('token_hash', 'text', (column) => column.primaryKey())
        .addColumn('user_id', 'text', (column) => column.notNull())
        .addColumn('csrf_token', 'text', (column) => column.notNull())
        .addColumn('created_at', 'bigint', (column) => column.notNull())
        .addColumn('last_seen_at', 'bigint', (column) => column.notNull())
        .addColumn('expires_at', 'bigint', (column) => column.notNull())
        .execute();
      await sql`create index server_sessions_user on server_sessions (user_id)`.execute(db);
      await db.schema
        .createTable('server_api_tokens')
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('name', 'text', (column) => column.notNull())
        .addColumn('token_hash', 'text', (column) => column.notNull().unique())
        .addColumn('role', 'text', (column) => column.notNull())
        .addColumn('created_by', 'text', (column) => column.notNull())
        .addColumn('created_at', 'bigint', (column) => column.notNull())
        .addColumn('expires_at', 'bigint')
        .addColumn('revoked_at', 'bigint')
        .addColumn('last_used_at', 'bigint')
        .execute();
      await db.schema
        .createTable('server_setup_tokens')
        .addColumn('token_hash', 'text', (column) => column.primaryKey())
        .addColumn('created_at', 'bigint', (column) => column.notNull())
        .addColumn('expires_at', 'bigint', (column) => column.notNull())
        .addColumn('used_at', 'bigint')
        .execute();
      await db.schema
        .createTable('server_reports')
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('kind', 'text', (column) => column.notNull())
        .addColumn('tool_name', 'text', (column) => column.notNull())
        .addColumn('tool_version', 'text', (column) => column.notNull())
        .addColumn('generated_at', 'text', (column) => column.notNull())
        .addColumn('received_at', 'bigint', (column) => column.notNull())
        .addColumn('submitted_by', 'text', (column) => column.notNull())
        .addColumn('idempotency_key', 'text', (column) => column.notNull())
        .addColumn('body_sha256', 'text', (column) => column.notNull())
        .addColumn('document', 'text', (column) => column.notNull())
        .execute();
      // Idempotency keys are scoped to the submitter, so one client cannot shadow another's reports.
      await sql`create unique index server_reports_idempotency on server_reports (submitted_by, idempotency_key)`.execute(db);
      await sql`create index server_reports_kind on server_reports (kind, received_at)`.execute(db);
    },
    async down(db: Kysely<unknown>) {
      for (const table of ['server_reports', 'server_setup_tokens', 'server_api_tokens', 'server_sessions', 'server_users']) {
        await db.schema.dropTable(table).execute();
      }
    },
  },
};

export interface ServerUsersTable {
  id: string;
  username: string;
  /** argon2id, PHC string. */
  password_hash: string;
  role: string;
  created_at: number;
  updated_at: number;
}

export interface ServerSessionsTable {
  /** SHA-256 of the cookie value: a copy of the database does not log anyone in. */
  token_hash: string;
  user_id: string;
  /** Synchroniser token: useless without the session cookie, so kept as is to hand back on GET /api/me. */
  csrf_token: string;
  created_at: number;
  last_seen_at: number;
  /** Absolute end, whatever the activity. */
  expires_at: number;
}

export interface ServerApiTokensTable {
  id: string;
  name: string;
  token_hash: string;
  role: string;
  created_by: string;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
  last_used_at: number | null;
}

export interface ServerSetupTokensTable {
  token_hash: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

export interface ServerReportsTable {
  id: string;
  kind: string;
  tool_name: string;
  tool_version: string;
  generated_at: string;
  received_at: number;
  /** `user:<id>` or `token:<id>`. */
  submitted_by: string;
  idempotency_key: string;
  /** Digest of the envelope, so a reused key with a different body is refused instead of silently answered. */
  body_sha256: string;
  /** JSON: the envelope's report. */
  document: string;
}

export interface ServerDatabase {
  server_users: ServerUsersTable;
  server_sessions: ServerSessionsTable;
  server_api_tokens: ServerApiTokensTable;
  server_setup_tokens: ServerSetupTokensTable;
  server_reports: ServerReportsTable;
}

