/**
 * Opening the layer cache for a scan. In the embedded store whose `layer_cache` table exists, the cache reads and
 * writes that table straight through better-sqlite3, so a scan the cache answers never loads kysely. Otherwise
 * (a new data directory, or a PostgreSQL store) the store is opened as every command opens it, migrations included,
 * which creates the table for the next scan.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { NomineError } from '../core/errors.ts';
import { sqlLayerCache, sqliteLayerCache, type LayerCache } from '../scan/layer-cache.ts';
import { openSqliteFile } from './sqlite-file.ts';
import { storeLocationOf } from './store-location.ts';

export interface OpenLayerCache extends LayerCache {
  close(): Promise<void>;
}

export async function openLayerCache(dataHome: string, ruleset: string, now: () => number): Promise<OpenLayerCache> {
  const location = storeLocationOf(dataHome);
  const file = location.kind === 'sqlite' ? join(location.home, 'nomine.db') : undefined;
  if (file && existsSync(file)) {
    let sqlite;
    try {
      sqlite = openSqliteFile(file);
    } catch (error) {
      throw new NomineError('invalid-input', `cannot open the store: ${(error as Error).message}`, file, { cause: error });
    }
    if (hasLayerCacheTable(sqlite)) {
      const opened = sqlite;
      return { ...sqliteLayerCache(opened, ruleset, now), close: async () => void opened.close() };
    }
    sqlite.close();
  }
  const { openStore } = await import('./open-store.ts');
  const db = await openStore(dataHome);
  return { ...sqlLayerCache(db, ruleset, now), close: () => db.destroy() };
}

function hasLayerCacheTable(sqlite: ReturnType<typeof openSqliteFile>): boolean {
  try {
    return sqlite.prepare("select 1 from sqlite_master where type = 'table' and name = 'layer_cache'").get() !== undefined;
  } catch {
    return false; // not a database we can read: the store's own opening says why
  }
}
