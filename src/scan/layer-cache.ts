/**
 * The layer cache: layer reports keyed by layer digest and ruleset version, so images that share base layers
 * scan each layer once, and a change of rules or analyzers re-scans instead of serving a stale verdict.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.ts';
import type { LayerReport } from './layer-report.ts';

export interface LayerCache {
  get(layerKey: string): Promise<LayerReport | undefined>;
  put(report: LayerReport): Promise<void>;
}

export function sqlLayerCache(db: Kysely<Database>, ruleset: string, now: () => number): LayerCache {
  return {
    async get(layerKey) {
      const row = await db.selectFrom('layer_cache').select('report').where('layer_key', '=', layerKey).where('ruleset', '=', ruleset).executeTakeFirst();
      if (!row) return undefined;
      await db.updateTable('layer_cache').set({ used_at: now() }).where('layer_key', '=', layerKey).where('ruleset', '=', ruleset).execute();
      try {
        return JSON.parse(gunzipSync(row.report).toString('utf8')) as LayerReport;
      } catch {
        return undefined; // a damaged entry is a miss: the layer is scanned again and the entry rewritten
      }
    },
    async put(report) {
      const blob = gzipSync(JSON.stringify(report));
      const at = now();
      await db
        .insertInto('layer_cache')
        .values({ layer_key: report.key, ruleset, report: blob, created_at: at, used_at: at })
        .onConflict((conflict) => conflict.columns(['layer_key', 'ruleset']).doUpdateSet({ report: blob, used_at: at }))
        .execute();
    },
  };
}

/** A cache that remembers nothing, for `--no-cache`. */
export const noLayerCache: LayerCache = { get: async () => undefined, put: async () => undefined };
