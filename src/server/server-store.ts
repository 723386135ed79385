/**
 * The server's store: the same SQLite file as every other command, opened and migrated by the one open-store (which
 * runs the core's and the server's migrations together), seen with the server's tables in its type.
 */
import type { Kysely } from 'kysely';
import type { ServerDatabase } from '../store/migrations-server.ts';
import { openStore } from '../store/open-store.ts';
import type { Database } from '../store/schema.ts';

export type ServerStore = Kysely<Database & ServerDatabase>;

export async function openServerStore(dataHome: string): Promise<ServerStore> {
  return (await openStore(dataHome)) as unknown as ServerStore;
}
