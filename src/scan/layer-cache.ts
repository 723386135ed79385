/**
 * The layer cache: layer reports keyed by layer digest and ruleset version, so images that share base layers
 * scan each layer once, and a change of rules or analyzers re-scans instead of serving a stale verdict.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import type SQLite from 'better-sqlite3';
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.ts';
import type { LayerReport } from './layer-report.ts';

export interface LayerCache {
  get(layerKey: string): Promise<LayerReport | undefined>;
  put(report: LayerReport): Promise<void>;
}

/** A stored report, or undefined for a damaged entry: a miss, so the layer is scanned again and the entry rewritten. */
function readReport(blob: Buffer): LayerReport | undefined {
  try {
    return JSON.parse(gunzipSync(blob).toString('utf8')) as LayerReport;
  } catch {
    return undefined;
  }
}

const writeReport = (report: LayerReport): Buffer => gzipSync(JSON.stringify(report));

/** The cache in the store's `layer_cache` table, through kysely (any store: SQLite or PostgreSQL). */
export function sqlLayerCache(db: Kysely<Database>, ruleset: string, now: () => number): LayerCache {
  return {
    async get(layerKey) {
      const row = await db.selectFrom('layer_cache').select('report').where('layer_key', '=', layerKey).where('ruleset', '=', ruleset).executeTakeFirst();
      if (!row) return undefined;
      await db.updateTable('layer_cache').set({ used_at: now() }).where('layer_key', '=', layerKey).where('ruleset', '=', ruleset).execute();
      return readReport(row.report);
    },
    async put(report) {
      const blob = writeReport(report);
      const at = now();
      await db
        .insertInto('layer_cache')
        .values({ layer_key: report.key, ruleset, report: blob, created_at: at, used_at: at })
        .onConflict((conflict) => conflict.columns(['layer_key', 'ruleset']).doUpdateSet({ report: blob, used_at: at }))
        .execute();
    },
  };
}

/**
 * The same table read straight from the store's SQLite file with better-sqlite3: a scan that the cache answers is
 * mostly start-up, and kysely's 280 modules took ~0.25 s of it. The table must exist (see open-layer-cache.ts).
 */
export function sqliteLayerCache(sqlite: SQLite.Database, ruleset: string, now: () => number): LayerCache {
  const select = sqlite.prepare<[string, string], { report: Buffer }>('select report from layer_cache where layer_key = ? and ruleset = ?');
  const touch = sqlite.prepare('update layer_cache set used_at = ? where layer_key = ? and ruleset = ?');
  const upsert = sqlite.prepare(
    'insert into layer_cache (layer_key, ruleset, report, created_at, used_at) values (?, ?, ?, ?, ?) ' +
      'on conflict (layer_key, ruleset) do update set report = excluded.report, used_at = excluded.used_at',
  );
  return {
    async get(layerKey) {
      const row = select.get(layerKey, ruleset);
      if (!row) return undefined;
      touch.run(now(), layerKey, ruleset);
      return readReport(row.report);
    },
    async put(report) {
      const at = now();
      upsert.run(report.key, ruleset, writeReport(report), at, at);
    },
  };
}

/** A cache that remembers nothing, for `--no-cache`. */
export const noLayerCache: LayerCache = { get: async () => undefined, put: async () => undefined };
