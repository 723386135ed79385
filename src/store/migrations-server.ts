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
  // The console's picture of the fleet: enrolled agents, the entities they see, profiles merged per workload (with
  // each node's contribution), alerts as aggregates (upserted by id: an aggregate's count only grows), event
  // summaries per entity and window, the batches already taken (idempotent delivery), and who did what.
  '1001-console-fleet': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('server_join_tokens')
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('name', 'text', (column) => column.notNull())
        .addColumn('token_hash', 'text', (column) => column.notNull().unique())
        .addColumn('created_by', 'text', (column) => column.notNull())
        .addColumn('created_at', 'bigint', (column) => column.notNull())
        .addColumn('expires_at', 'bigint', (column) => column.notNull())
        .addColumn('max_uses', 'integer')
        .addColumn('uses', 'integer', (column) => column.notNull().defaultTo(0))
        .addColumn('revoked_at', 'bigint')
        .execute();
      await db.schema
        .createTable('server_agents')
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('node_name', 'text', (column) => column.notNull())
        .addColumn('version', 'text', (column) => column.notNull())
        .addColumn('token_hash', 'text', (column) => column.notNull().unique())
        .addColumn('join_token_id', 'text', (column) => column.notNull())
        .addColumn('enrolled_at', 'bigint', (column) => column.notNull())
        .addColumn('last_seen_at', 'bigint', (column) => column.notNull())
        .addColumn('revoked_at', 'bigint')
        .addColumn('status', 'text')
        .execute();
      await db.schema
        .createTable('server_entities')
        .addColumn('agent_id', 'text', (column) => column.notNull())
        .addColumn('entity_id', 'text', (column) => column.notNull())
        .addColumn('kind', 'text', (column) => column.notNull())
        .addColumn('name', 'text', (column) => column.notNull())
        .addColumn('image', 'text')
        .addColumn('image_digest', 'text')
        .addColumn('workload', 'text')
        .addColumn('profile_id', 'text')
        .addColumn('document', 'text', (column) => column.notNull())
        .addColumn('first_seen_at', 'bigint', (column) => column.notNull())
        .addColumn('last_seen_at', 'bigint', (column) => column.notNull())
        .addColumn('gone_at', 'bigint')
        .addPrimaryKeyConstraint('server_entities_pk', ['agent_id', 'entity_id'])
        .execute();
      await sql`create index server_entities_profile on server_entities (profile_id)`.execute(db);
      await db.schema
        .createTable('server_profiles')
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('workload', 'text', (column) => column.notNull())
        .addColumn('image_digest', 'text', (column) => column.notNull())
        .addColumn('image', 'text')
        .addColumn('mode', 'text', (column) => column.notNull())
        .addColumn('phase', 'text', (column) => column.notNull())
        .addColumn('revision', 'integer', (column) => column.notNull())
        .addColumn('document', 'text', (column) => column.notNull())
        .addColumn('mode_set_by', 'text')
        .addColumn('approved_at', 'bigint')
        .addColumn('approved_by', 'text')
        .addColumn('relearn_requested_at', 'bigint')
        .addColumn('created_at', 'bigint', (column) => column.notNull())
        .addColumn('updated_at', 'bigint', (column) => column.notNull())
        .execute();
      await sql`create index server_profiles_revision on server_profiles (revision)`.execute(db);
      await db.schema
        .createTable('server_profile_contributions')
        .addColumn('profile_id', 'text', (column) => column.notNull())
        .addColumn('agent_id', 'text', (column) => column.notNull())
        .addColumn('revision', 'integer', (column) => column.notNull())
        .addColumn('document', 'text', (column) => column.notNull())
        .addColumn('received_at', 'bigint', (column) => column.notNull())
        .addPrimaryKeyConstraint('server_profile_contributions_pk', ['profile_id', 'agent_id'])
        .execute();
      await db.schema
        .createTable('server_alerts')
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('agent_id', 'text', (column) => column.notNull())
        .addColumn('dedupe_key', 'text', (column) => column.notNull())
        .addColumn('rule', 'text', (column) => column.notNull())
        .addColumn('severity', 'text', (column) => column.notNull())
        .addColumn('message', 'text', (column) => column.notNull())
        .addColumn('entity_id', 'text', (column) => column.notNull())
        .addColumn('entity_name', 'text', (column) => column.notNull())
        .addColumn('workload', 'text', (column) => column.notNull())
        .addColumn('profile_id', 'text')
        .addColumn('image', 'text')
        .addColumn('mode', 'text', (column) => column.notNull())
        .addColumn('action_taken', 'text', (column) => column.notNull())
        .addColumn('first_at', 'bigint', (column) => column.notNull())
        .addColumn('last_at', 'bigint', (column) => column.notNull())
        .addColumn('count', 'integer', (column) => column.notNull())
        .addColumn('received_at', 'bigint', (column) => column.notNull())
        .addColumn('document', 'text', (column) => column.notNull())
        .execute();
      await sql`create index server_alerts_last_at on server_alerts (last_at)`.execute(db);
      await sql`create index server_alerts_profile on server_alerts (profile_id, last_at)`.execute(db);
      await sql`create index server_alerts_entity on server_alerts (agent_id, entity_id)`.execute(db);
      await db.schema
        .createTable('server_event_summaries')
        .addColumn('agent_id', 'text', (column) => column.notNull())
        .addColumn('entity_id', 'text', (column) => column.notNull())
        .addColumn('window_start', 'bigint', (column) => column.notNull())
        .addColumn('window_end', 'bigint', (column) => column.notNull())
        .addColumn('counts', 'text', (column) => column.notNull())
        .addPrimaryKeyConstraint('server_event_summaries_pk', ['agent_id', 'entity_id', 'window_start'])
        .execute();
      await db.schema
        .createTable('server_agent_batches')
        .addColumn('agent_id', 'text', (column) => column.notNull())
        .addColumn('batch_id', 'text', (column) => column.notNull())
        .addColumn('body_sha256', 'text', (column) => column.notNull())
        .addColumn('received_at', 'bigint', (column) => column.notNull())
        .addColumn('answer', 'text', (column) => column.notNull())
        .addPrimaryKeyConstraint('server_agent_batches_pk', ['agent_id', 'batch_id'])
        .execute();
      await db.schema
        .createTable('server_audit_log')
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('at', 'bigint', (column) => column.notNull())
        .addColumn('actor', 'text', (column) => column.notNull())
        .addColumn('action', 'text', (column) => column.notNull())
        .addColumn('target', 'text', (column) => column.notNull())
        .addColumn('detail', 'text')
        .execute();
      await sql`create index server_audit_log_at on server_audit_log (at)`.execute(db);
    },
    async down(db: Kysely<unknown>) {
      for (const table of [
        'server_audit_log',
        'server_agent_batches',
        'server_event_summaries',
        'server_alerts',
        'server_profile_contributions',
        'server_profiles',
        'server_entities',
        'server_agents',
        'server_join_tokens',
      ]) {
        await db.schema.dropTable(table).execute();
      }
    },
  },
  // Users an admin disabled keep their row (their name in the audit trail, a way back) but cannot log in.
  '1002-user-disabled': {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('server_users').addColumn('disabled_at', 'bigint').execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.alterTable('server_users').dropColumn('disabled_at').execute();
    },
  },
  // Login throttling in the store, so every replica of the console counts the same attempts: one row per throttle
  // and key (a digest of the client address or the username) holding its current window.
  '1003-login-attempts': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('server_login_attempts')
        .addColumn('scope', 'text', (column) => column.notNull())
        .addColumn('key_hash', 'text', (column) => column.notNull())
        .addColumn('window_start', 'bigint', (column) => column.notNull())
        .addColumn('count', 'integer', (column) => column.notNull())
        .addPrimaryKeyConstraint('server_login_attempts_pk', ['scope', 'key_hash'])
        .execute();
      await sql`create index server_login_attempts_window on server_login_attempts (scope, window_start)`.execute(db);
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('server_login_attempts').execute();
    },
  },
  // The overview aggregates every alert of its range: an index holding all it reads lets it skip the rows (whose
  // JSON documents make a table scan slow once a fleet has tens of thousands of alerts).
  '1004-alerts-overview-index': {
    async up(db: Kysely<unknown>) {
      await sql`create index server_alerts_overview on server_alerts (last_at, severity, rule, workload, count)`.execute(db);
    },
    async down(db: Kysely<unknown>) {
      await sql`drop index server_alerts_overview`.execute(db);
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
  /** Set while an admin has disabled the user: no login, no session. */
  disabled_at: number | null;
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

export interface ServerJoinTokensTable {
  id: string;
  name: string;
  /** SHA-256 of the join token. */
  token_hash: string;
  created_by: string;
  created_at: number;
  expires_at: number;
  /** null: any number of nodes may enrol with it until it expires. */
  max_uses: number | null;
  uses: number;
  revoked_at: number | null;
}

export interface ServerAgentsTable {
  id: string;
  node_name: string;
  version: string;
  /** SHA-256 of the agent's own credential, issued at enrolment. */
  token_hash: string;
  join_token_id: string;
  enrolled_at: number;
  last_seen_at: number;
  revoked_at: number | null;
  /** JSON: the agent's last reported status (sensor, counters). */
  status: string | null;
}

export interface ServerEntitiesTable {
  agent_id: string;
  entity_id: string;
  /** `container` or `host`. */
  kind: string;
  name: string;
  image: string | null;
  image_digest: string | null;
  workload: string | null;
  profile_id: string | null;
  /** JSON: the entity as the agent reported it. */
  document: string;
  first_seen_at: number;
  last_seen_at: number;
  gone_at: number | null;
}

export interface ServerProfilesTable {
  /** The agent's profile id (`wl-…`), the same on every node for one workload key. */
  id: string;
  workload: string;
  image_digest: string;
  image: string | null;
  mode: string;
  phase: string;
  /** The server's revision of the merged profile; bumped on every merge or action, agents sync by it. */
  revision: number;
  /** JSON: the merged Profile. */
  document: string;
  /** `user:<id>` when a person set the mode; null while it follows the agents. */
  mode_set_by: string | null;
  approved_at: number | null;
  approved_by: string | null;
  relearn_requested_at: number | null;
  created_at: number;
  updated_at: number;
}

export interface ServerProfileContributionsTable {
  profile_id: string;
  agent_id: string;
  /** The agent's own revision of the profile, so an older delivery never replaces a newer one. */
  revision: number;
  document: string;
  received_at: number;
}

export interface ServerAlertsTable {
  /** The agent's aggregate id (uuid). */
  id: string;
  agent_id: string;
  dedupe_key: string;
  rule: string;
  severity: string;
  message: string;
  entity_id: string;
  entity_name: string;
  workload: string;
  profile_id: string | null;
  image: string | null;
  mode: string;
  action_taken: string;
  first_at: number;
  last_at: number;
  count: number;
  received_at: number;
  /** JSON: the Alert. */
  document: string;
}

export interface ServerEventSummariesTable {
  agent_id: string;
  entity_id: string;
  window_start: number;
  window_end: number;
  /** JSON: counts by event type. */
  counts: string;
}

export interface ServerAgentBatchesTable {
  agent_id: string;
  batch_id: string;
  body_sha256: string;
  received_at: number;
  /** JSON: the answer first given, returned again for a replay. */
  answer: string;
}

export interface ServerAuditLogTable {
  id: string;
  at: number;
  /** `user:<id>`, `token:<id>` or `agent:<id>`. */
  actor: string;
  /** `profile.approve`, `profile.set-mode`, `user.create`, … */
  action: string;
  target: string;
  /** JSON. */
  detail: string | null;
}

export interface ServerLoginAttemptsTable {
  /** Which throttle: `ip` (every attempt per client address) or `user` (failures per username). */
  scope: string;
  /** SHA-256 of the address or lower-cased username: what people type into the username field is not kept. */
  key_hash: string;
  /** When the key's current window began (its first attempt in it). */
  window_start: number;
  count: number;
}

export interface ServerDatabase {
  server_users: ServerUsersTable;
  server_sessions: ServerSessionsTable;
  server_api_tokens: ServerApiTokensTable;
  server_setup_tokens: ServerSetupTokensTable;
  server_reports: ServerReportsTable;
  server_join_tokens: ServerJoinTokensTable;
  server_agents: ServerAgentsTable;
  server_entities: ServerEntitiesTable;
  server_profiles: ServerProfilesTable;
  server_profile_contributions: ServerProfileContributionsTable;
  server_alerts: ServerAlertsTable;
  server_event_summaries: ServerEventSummariesTable;
  server_agent_batches: ServerAgentBatchesTable;
  server_audit_log: ServerAuditLogTable;
  server_login_attempts: ServerLoginAttemptsTable;
}

