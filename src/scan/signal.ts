/**
 * Signals: what one analyzer concluded about one file, as evidence a person can read plus a machine-readable
 * strength. The verdict combines signals; an analyzer never decides the verdict itself.
 */
import type { Evidence } from '../core/finding.ts';
import type { Severity } from '../core/severity.ts';

/**
 * conclusive: enough alone for `malicious` (a known-miner hash, a rule written to identify a miner).
 * strong: a miner trait that a benign program rarely has (stratum URL, wallet address, miner option names).
 * weak: a trait many benign programs share (packed, stripped, static, high entropy), only counts in combination.
 */
export type SignalStrength = 'conclusive' | 'strong' | 'weak';

export interface Signal extends Evidence {
  analyzer: string;
  /** Stable id of the rule, hash list entry or heuristic that fired: `hash.known-miner`, `yara.xmrig_strings`. */
  rule: string;
  strength: SignalStrength;
  /** Severity a rule declares for itself (YARA meta `severity`); the verdict derives one when absent. */
  severity?: Severity;
}

export type Verdict = 'malicious' | 'suspicious' | 'clean';
