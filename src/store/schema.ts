/** The store's tables as kysely sees them. */
import type { Generated } from 'kysely';

export interface LayerCacheTable {
  layer_key: string;
  ruleset: string;
  report: Buffer;
  created_at: number;
  used_at: number;
}

/** One row per workload profile: the columns queries filter on, and the allowances as JSON. */
export interface ProfilesTable {
  id: string;
  image_digest: string;
  workload: string;
  image: string | null;
  mode: string;
  phase: string;
  learning_started_at: number;
  last_new_behaviour_at: number;
  enforcing_since: number | null;
  revision: number;
  /** JSON: selector labels and Kubernetes metadata, which nothing filters on. */
  meta: string;
  /** JSON: the Allowances. */
  allow: string;
  created_at: number;
  updated_at: number;
}

/** A profile's history: learned, approved, relearn, mode-changed, phase-changed, created. */
export interface ProfileEventsTable {
  seq: Generated<number>;
  profile_id: string;
  at: number;
  kind: string;
  revision: number;
  detail: string;
}

/** Whole profiles as they were at a revision (kept on phase changes, approvals and relearns), for diffs. */
export interface ProfileSnapshotsTable {
  profile_id: string;
  revision: number;
  taken_at: number;
  reason: string;
  /** JSON: the Profile. */
  document: string;
}

export interface Database {
  layer_cache: LayerCacheTable;
  profiles: ProfilesTable;
  profile_events: ProfileEventsTable;
  profile_snapshots: ProfileSnapshotsTable;
}
