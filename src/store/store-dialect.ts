/**
 * Which SQL dialect a store speaks, for the few places that must differ (column types in migrations). Queries
 * should not need it: kysely's builder speaks both.
 */
import { PostgresAdapter, type Kysely } from 'kysely';

export function isPostgres(db: Kysely<any>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}
