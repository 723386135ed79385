/** Schema migrations, in order; kysely's Migrator records which ran. Never edit a shipped migration: add one. */
import { sql, type Kysely, type Migration } from 'kysely';

export const migrations: Record<string, Migration> = {
  '0001-layer-cache': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('layer_cache')
        .addColumn('layer_key', 'text', (column) => column.notNull())
        .addColumn('ruleset', 'text', (column) => column.notNull())
        .addColumn('report', 'blob', (column) => column.notNull())
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
};
