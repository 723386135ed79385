/**
 * Schema migrations, in order; kysely's Migrator records which ran. Never edit a shipped migration: add one. Each
 * runs on SQLite and on PostgreSQL; where their column types differ, `isPostgres` picks, and the SQLite schema stays
 * what it always was.
 */
import { sql, type Kysely, type Migration } from 'kysely';
import { isPostgres } from './store-dialect.ts';

export const migrations: Record<string, Migration> = {
  '0001-layer-cache': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('layer_cache')
        .addColumn('layer_key', 'text', (column) => column.notNull())
        .addColumn('ruleset', 'text', (column) => column.notNull())
        .addColumn('report', isPostgres(db) ? 'bytea' : 'blob', (column) => column.notNull())
        .addColumn('created_at', 'bigint', (column) => column.notNull())
        .addColumn('used_at', 'bigint', (column) => column.notNull())
        .addPrimaryKeyConstraint('layer_cache_pk', ['layer_key', 'ruleset'])
        .execute();
      await sql`create index layer_cache_used_at on layer_cache (used_at)`.execute(db);
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('layer_cache').execute();
    },
  },
  '0002-profiles': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('profiles')
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('image_digest', 'text', (column) => column.notNull())
        .addColumn('workload', 'text', (column) => column.notNull())
        .addColumn('image', 'text')
        .addColumn('mode', 'text', (column) => column.notNull())
        .addColumn('phase', 'text', (column) => column.notNull())
        .addColumn('learning_started_at', 'bigint', (column) => column.notNull())
        .addColumn('last_new_behaviour_at', 'bigint', (column) => column.notNull())
        .addColumn('enforcing_since', 'bigint')
        .addColumn('revision', 'integer', (column) => column.notNull())
        .addColumn('meta', 'text', (column) => column.notNull())
        .addColumn('allow', 'text', (column) => column.notNull())
        .addColumn('created_at', 'bigint', (column) => column.notNull())
        .addColumn('updated_at', 'bigint', (column) => column.notNull())
        .execute();
      await sql`create index profiles_workload on profiles (workload, updated_at)`.execute(db);
      // SQLite's `integer primary key autoincrement`; PostgreSQL's identity column is its counterpart.
      await db.schema
        .createTable('profile_events')
        .addColumn('seq', 'integer', (column) => (isPostgres(db) ? column.primaryKey().generatedByDefaultAsIdentity() : column.primaryKey().autoIncrement()))
        .addColumn('profile_id', 'text', (column) => column.notNull())
        .addColumn('at', 'bigint', (column) => column.notNull())
        .addColumn('kind', 'text', (column) => column.notNull())
        .addColumn('revision', 'integer', (column) => column.notNull())
        .addColumn('detail', 'text', (column) => column.notNull())
        .execute();
      await sql`create index profile_events_profile on profile_events (profile_id, seq)`.execute(db);
      await db.schema
        .createTable('profile_snapshots')
        .addColumn('profile_id', 'text', (column) => column.notNull())
        .addColumn('revision', 'integer', (column) => column.notNull())
        .addColumn('taken_at', 'bigint', (column) => column.notNull())
        .addColumn('reason', 'text', (column) => column.notNull())
        .addColumn('document', 'text', (column) => column.notNull())
        .addPrimaryKeyConstraint('profile_snapshots_pk', ['profile_id', 'revision'])
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('profile_snapshots').execute();
      await db.schema.dropTable('profile_events').execute();
      await db.schema.dropTable('profiles').execute();
    },
  },
};
