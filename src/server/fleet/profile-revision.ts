/**
 * Revisions of the console's profiles: one sequence over every profile, not a counter per profile, because agents
 * sync with a single `since` (the highest revision they applied). Every write that changes a server_profiles row
 * (a merge, an approval, a relearn request, a mode set on the console) must take its revision from here, inside its
 * transaction: a per-profile `revision + 1` would hide the change from agents already past that number.
 */
import { sql } from 'kysely';
import { isPostgres } from '../../store/store-dialect.ts';
import type { ServerStore } from '../server-store.ts';

/**
 * The next free revision; a transaction writing several profiles uses it, it + 1, … Call it in the transaction
 * that writes them: on PostgreSQL it holds a transaction lock until commit, so revisions become visible in the
 * order they were handed out and an agent's `since` never skips one still in flight (SQLite has one writer anyway).
 */
export async function nextProfileRevision(trx: ServerStore): Promise<number> {
  if (isPostgres(trx)) await sql`select pg_advisory_xact_lock(7480100)`.execute(trx);
  const row = await trx.selectFrom('server_profiles').select((eb) => eb.fn.max('revision').as('revision')).executeTakeFirst();
  return Number(row?.revision ?? 0) + 1;
}

/** The highest revision any profile has (0 with none). */
export async function latestProfileRevision(db: ServerStore): Promise<number> {
  const row = await db.selectFrom('server_profiles').select((eb) => eb.fn.max('revision').as('revision')).executeTakeFirst();
  return Number(row?.revision ?? 0);
}
