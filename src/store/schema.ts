/** The store's tables as kysely sees them. */
export interface LayerCacheTable {
  layer_key: string;
  ruleset: string;
  report: Buffer;
  created_at: number;
  used_at: number;
}

export interface Database {
  layer_cache: LayerCacheTable;
}
