/**
 * Signatures: the loaded, validated rule set every analyzer matches against (built-in data/signatures plus the
 * user's directories). Its `version` is a digest of everything loaded and of the engine and analyzer versions, and
 * is part of the layer cache key, so editing a rule file re-scans layers instead of serving stale verdicts.
 */
import type { SignalStrength } from '../scan/signal.ts';
import type { Severity } from '../core/severity.ts';
import type { KeywordPrefilter } from './keyword-prefilter.ts';
import type { KeywordRules } from './keyword-rules.ts';
import type { YaraRuleSet } from './yara-engine.ts';

/** A file whose SHA-256 identifies a known miner build (from a threat-intel list). */
export interface HashEntry {
  sha256: string;
  name: string;
  family: string;
  reference?: string;
  /** File it was loaded from, for the evidence. */
  source: string;
}

/** A known miner build described by a fuzzy hash, so recompiled or re-configured variants still match. */
export interface FuzzyEntry {
  /** Normalised: 70 upper-case hex digits without the `T1` prefix. */
  tlsh?: string;
  ssdeep?: string;
  name: string;
  family: string;
  reference?: string;
  source: string;
}

/** Where a keyword list is applied: file contents, image metadata (entrypoint, env, labels, history), or both. */
export type KeywordScope = 'files' | 'image-config';

/** A named list of literals and patterns for one miner trait (pool hosts, stratum methods, wallet addresses). */
export interface KeywordList {
  id: string;
  /** Completes "contains …": `mining pool host`, `Monero wallet address`. */
  summary: string;
  strength: SignalStrength;
  severity?: Severity;
  scopes: readonly KeywordScope[];
  /** One global regular expression over all literals and patterns of the list, compiled at load time. */
  matcher: RegExp;
  source: string;
}

/** An image repository known to ship a miner (`docker.io/`, `library/`, tag and digest removed). */
export interface MinerImage {
  repository: string;
  family?: string;
  reference?: string;
  source: string;
}

export interface Signatures {
  version: string;
  /** Every file loaded, in load order (built-ins first), for `nomine signatures list` and error messages. */
  files: readonly string[];
  hashes: ReadonlyMap<string, HashEntry>;
  fuzzy: readonly FuzzyEntry[];
  keywords: readonly KeywordList[];
  /** Ports mining pools listen on (3333, 4444, 14444 …): a host:port on one of them hints at a pool connection. */
  stratumPorts: ReadonlySet<number>;
  minerImages: ReadonlyMap<string, MinerImage>;
  /** What rules files out for keyword lists, and the rules that tell; absent, every list runs on every file. */
  keywordPrefilter?: KeywordPrefilter;
  keywordRules?: KeywordRules;
  /** Generated rule (compiled into `yara`) of each analyzer marker, by `analyzer-id:marker-name`. */
  markerRules?: ReadonlyMap<string, string>;
  yara: YaraRuleSet;
}
