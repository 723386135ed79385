/**
 * The server's store: the same store as every other command (a SQLite file in the data directory, or PostgreSQL
 * for clusters), opened and migrated by the one open-store (which runs the core's and the server's migrations
 * together), seen with the server's tables in its type.
 */
import type { Kysely } from 'kysely';
import type { ServerDatabase } from '../store/migrations-server.ts';
import { openStore, type StoreOptions } from '../store/open-store.ts';
import type { StoreLocation } from '../store/store-location.ts';
import type { Database } from '../store/schema.ts';

export type ServerStore = Kysely<Database & ServerDatabase>;

/**
 * `target`: a data directory (SQLite) or a `postgres://` / `postgresql://` URL. SQLite runs in a worker thread here
 * (unless `sqliteWorker: false`), so agents' writes never hold up the event loop that answers people.
 */
export async function openServerStore(target: string | StoreLocation, options: StoreOptions = {}): Promise<ServerStore> {
  return (await openStore(target, { sqliteWorker: true, ...options })) as unknown as ServerStore;
}
