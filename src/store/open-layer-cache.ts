/**
 * Opening the layer cache for a scan. In the embedded store whose `layer_cache` table exists, the cache reads and
 * writes that table straight through better-sqlite3, so a scan the cache answers never loads kysely. Otherwise
 * (a new data directory, or a PostgreSQL store) the store is opened as every command opens it, migrations included,
 * which creates the table for the next scan.
 */
import { existsSync } from 'node:fs';
import type SQLite from 'better-sqlite3';
import { sqlLayerCache, sqliteLayerCache, type LayerCache } from '../scan/layer-cache.ts';
import { openStoreFile, storeFileIn } from './sqlite-file.ts';
import { storeLocationOf } from './store-location.ts';

export interface OpenLayerCache extends LayerCache {
  close(): Promise<void>;
}

export async function openLayerCache(dataHome: string, ruleset: string, now: () => number): Promise<OpenLayerCache> {
  const location = storeLocationOf(dataHome);
  const file = location.kind === 'sqlite' ? storeFileIn(location.home) : undefined;
  if (file && existsSync(file)) {
    const sqlite = openStoreFile(file);
    if (hasLayerCacheTable(sqlite)) return { ...sqliteLayerCache(sqlite, ruleset, now), close: async () => void sqlite.close() };
    sqlite.close();
  }
  const { openStore } = await import('./open-store.ts');
  const db = await openStore(dataHome);
  return { ...sqlLayerCache(db, ruleset, now), close: () => db.destroy() };
}

function hasLayerCacheTable(sqlite: SQLite.Database): boolean {
  try {
    return sqlite.prepare("select 1 from sqlite_master where type = 'table' and name = 'layer_cache'").get() !== undefined;
  } catch {
    return false; // not a database we can read: the store's own opening says why
  }
}
