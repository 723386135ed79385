/**
 * Signatures: the loaded, validated rule set every analyzer matches against (built-in data/signatures plus the
 * user's directories). Its `version` is a digest of everything loaded and is part of the layer cache key, so editing
 * a rule file re-scans layers instead of serving stale verdicts.
 *
 * OWNER: analyzers helper fills this in (hash lists, fuzzy hashes, YARA-X rules, keyword lists, miner image list).
 */
export interface Signatures {
  version: string;
}
