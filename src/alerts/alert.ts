/**
 * Alerts: every deviation from a profile, and every behaviour that is malicious on its face, in words a person can
 * act on: what was seen, what the profile allows, the action taken and why. Duplicates aggregate into one alert
 * with a count (same dedupeKey); outputs receive the aggregate.
 */
import type { Severity } from '../core/severity.ts';
import type { EnforcementMode, ProfilePhase } from '../profile/profile.ts';

export const alertRules = [
  'process-not-allowed',
  'egress-not-allowed',
  'listen-not-allowed',
  'file-write-not-allowed',
  'syscall-not-allowed',
  'cpu-above-envelope',
  'drift',
  'miner-executable',
  'mining-pool',
  'deleted-executable',
] as const;
export type AlertRule = (typeof alertRules)[number];

export type ActionTaken = 'none' | 'killed' | 'stopped' | 'paused' | 'failed';

export interface Alert {
  /** Unique per aggregate (uuid). */
  id: string;
  /** Identical deviations share this key and aggregate: rule + workload + what was seen. */
  dedupeKey: string;
  rule: AlertRule;
  severity: Severity;
  /** One sentence: `kv-store (container kv-1) ran /tmp/xmrig, which its profile does not allow; the process was killed.` */
  message: string;
  entity: { id: string; name: string };
  workload: string;
  profileId?: string;
  image?: string;
  imageDigest?: string;
  /** What was seen: `exec /tmp/xmrig (sha256 ab12…) by /bin/sh, pid 4242`. */
  seen: string;
  /** What the profile allows, in short: `3 executables: /bin/busybox, /usr/sbin/httpd, /bin/sh`. */
  allowed: string;
  mode: EnforcementMode;
  phase: ProfilePhase;
  action: { taken: ActionTaken; reason: string };
  firstAt: number;
  lastAt: number;
  /** Occurrences aggregated into this alert, including ones the rate limit held back. */
  count: number;
}
