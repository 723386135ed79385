/**
 * Policy exporters: turn a learned profile into a policy that something else enforces — the kernel (seccomp,
 * AppArmor), the cluster's network (NetworkPolicy), or another runtime-security tool (KubeArmor, Tetragon, Falco).
 * Each exporter is pure: profile in, text out. Data the format needs but the profile lacks is an error naming what
 * is missing; smaller losses (an entry the format cannot express, a label the user must add) are warnings.
 */
import type { Profile } from '../profile.ts';

export interface ExportOptions {
  /** Export a profile that is still learning (its allow-list is incomplete, so the policy will block normal work). */
  force?: boolean;
  /** Labels that select the workload when the profile has none (NetworkPolicy, KubeArmor, Tetragon, Falco). */
  selector?: Record<string, string>;
  /** Namespace for namespaced objects when the profile names none. */
  namespace?: string;
}

export interface ExportResult {
  content: string;
  /** What the policy could not carry over or what the user must do for it to work; never empty text. */
  warnings: string[];
}

export interface PolicyExporter {
  /** Stable id, the `--format` value. */
  id: string;
  description: string;
  /** File name for this profile's policy: a valid Kubernetes name plus the format's extension. */
  fileName(profile: Profile): string;
  /** Throws NomineError('invalid-input') when the profile cannot be exported in this format. */
  export(profile: Profile, options: ExportOptions): ExportResult;
  /** Whether the output is a Kubernetes object that `kubectl apply -k` can take. */
  kubernetesResource: boolean;
}
