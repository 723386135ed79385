/**
 * Profiles: the allow-list a workload learned. One per workload (image digest + owning workload), shared by its
 * replicas. `learn` grows it from events while learning; `judge` compares an event with it once enforcing; the
 * exporters turn it into seccomp, NetworkPolicy, AppArmor, KubeArmor, Tetragon and Falco policies.
 */
import type { Protocol } from '../agent/event.ts';

export const enforcementModes = ['learn', 'alert', 'prevent', 'stop'] as const;
/** learn: only learn, never alert; alert: alert on deviations; prevent: kill the offending process; stop: stop the container. */
export type EnforcementMode = (typeof enforcementModes)[number];
export type ProfilePhase = 'learning' | 'enforcing';

/** Where an allowance came from. */
export type AllowanceSource = 'learned' | 'image' | 'approved';

export interface WorkloadKey {
  /** Digest of the image the workload runs (`sha256:…`). */
  imageDigest: string;
  /** Owning workload: `k8s:NAMESPACE/KIND/NAME`, `compose:PROJECT/SERVICE`, or `container:NAME-PATTERN` (replica suffixes cut). */
  workload: string;
}

export interface ProcessAllowance {
  /** Executable path inside the container. */
  exe: string;
  /** SHA-256 digests seen for it (or found in the image). */
  sha256: string[];
  /** Executables of the parents that started it. */
  parents: string[];
  source: AllowanceSource;
  firstSeen: number;
}

export interface EgressAllowance {
  /** IP address or CIDR (`10.0.0.0/24`). */
  address: string;
  port: number;
  protocol: Protocol;
  source: AllowanceSource;
  firstSeen: number;
}

export interface ListenAllowance {
  port: number;
  protocol: Protocol;
  source: AllowanceSource;
  firstSeen: number;
}

export interface FileWriteAllowance {
  /** Path or directory pattern: `/var/log/app.log`, `/tmp/*` (one segment), `/var/cache/**` (any depth). */
  pattern: string;
  source: AllowanceSource;
  firstSeen: number;
}

export interface CpuEnvelope {
  /** Counts of samples per bucket of `bucketCores` cores; a high quantile of these is the envelope. */
  histogram: number[];
  bucketCores: number;
  samples: number;
  /** Cores at the envelope quantile (p99 by default); what the CPU detector compares with. */
  quantileCores: number;
}

export interface Allowances {
  processes: ProcessAllowance[];
  egress: EgressAllowance[];
  listen: ListenAllowance[];
  fileWrites: FileWriteAllowance[];
  /** Syscall names used; undefined when the sensor gives no syscall data. */
  syscalls?: string[];
  cpu: CpuEnvelope;
}

export interface Profile {
  /** Stable id derived from the key (`wl-<hash>`); also a valid Kubernetes name fragment. */
  id: string;
  key: WorkloadKey;
  /** Image reference for display (`kv-store:1.0`). */
  image?: string;
  mode: EnforcementMode;
  phase: ProfilePhase;
  learningStartedAt: number;
  /** Last time learning added something new; the quiet period runs from here. */
  lastNewBehaviourAt: number;
  enforcingSince?: number;
  /** Labels that select the workload's pods or containers (for NetworkPolicy and KubeArmor selectors). */
  selector: Record<string, string>;
  kubernetes?: { namespace: string; workloadKind?: string; workloadName?: string };
  allow: Allowances;
  /** Bumped on every change; the console merges by it. */
  revision: number;
}

export function emptyAllowances(bucketCores = 0.05): Allowances {
  return { processes: [], egress: [], listen: [], fileWrites: [], cpu: { histogram: [], bucketCores, samples: 0, quantileCores: 0 } };
}
