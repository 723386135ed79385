/**
 * Profiles between a node and the console: what a node contributes of a profile, and how it takes the fleet's
 * merged profile back. Sets (executables, destinations, ports, paths, syscalls) merge by union, so a node may send
 * back what it got. CPU histograms add up instead, so a node keeps the other nodes' samples apart (`othersCpu`,
 * from the last sync) and contributes only its own: nothing is ever counted twice. The console's decisions come
 * with the fleet profile: a mode a person set, an approval, a relearn request; each is carried out once. Pure.
 */
import { subtractEnvelope, sumEnvelopes } from '../../profile/cpu-envelope.ts';
import { approve, relearn } from '../../profile/lifecycle.ts';
import { mergeProfiles } from '../../profile/merge-profiles.ts';
import { emptyAllowances, type CpuEnvelope, type EnforcementMode, type Profile } from '../../profile/profile.ts';
import type { ProfileChange } from '../../profile/profile-store.ts';

/** What a node remembers of the fleet profile per profile id (in $NOMINE_HOME/console/sync-state.json). */
export interface FleetProfileState {
  /** The other nodes' CPU samples, as of the last sync applied. */
  othersCpu?: { histogram: number[]; bucketCores: number; samples: number };
  /** The console's approval and relearn request already carried out here. */
  approvedAt?: number;
  relearnRequestedAt?: number;
}

/** One profile of a sync answer, its document already checked. */
export interface FleetProfileUpdate {
  id: string;
  revision: number;
  mode: EnforcementMode;
  modeSetBy: string | null;
  approvedAt: number | null;
  relearnRequestedAt: number | null;
  document: Profile;
  othersCpu: { histogram: number[]; bucketCores: number; samples: number };
}

export interface Contribution {
  id: string;
  revision: number;
  document: Profile;
  relearnRequestedAt?: number;
}

// The wire bounds of src/server/schemas/profile-document-schema.ts: an entry beyond them is not sent (it could
// never match a real event anyway), rather than have the console refuse the whole batch.
const maxText = 4096;
const maxKeyText = 512;

function envelope(cpu: FleetProfileState['othersCpu'], bucketCores: number): CpuEnvelope {
  return cpu ? { histogram: cpu.histogram, bucketCores: cpu.bucketCores, samples: cpu.samples, quantileCores: 0 } : emptyAllowances(bucketCores).cpu;
}

/** The node's own part of its profile, as it is sent; undefined when its key is beyond what the console takes. */
export function contributionOf(local: Profile, state: FleetProfileState | undefined): Contribution | undefined {
  if (local.key.imageDigest.length > maxKeyText || local.key.workload.length > maxKeyText) return undefined;
  const allow = local.allow;
  const cpu = state?.othersCpu ? subtractEnvelope(allow.cpu, envelope(state.othersCpu, allow.cpu.bucketCores)) : allow.cpu;
  const selector = Object.fromEntries(Object.entries(local.selector).filter(([name, value]) => name.length <= 317 && value.length <= 63).slice(0, 64));
  const document: Profile = {
    id: local.id,
    key: { imageDigest: local.key.imageDigest, workload: local.key.workload },
    ...(local.image !== undefined && local.image.length <= maxKeyText ? { image: local.image } : {}),
    mode: local.mode,
    phase: local.phase,
    learningStartedAt: local.learningStartedAt,
    lastNewBehaviourAt: local.lastNewBehaviourAt,
    ...(local.enforcingSince !== undefined ? { enforcingSince: local.enforcingSince } : {}),
    selector,
    ...(local.kubernetes ? { kubernetes: { ...local.kubernetes } } : {}),
    allow: {
      processes: allow.processes
        .filter((entry) => entry.exe.length <= maxText)
        .map((entry) => ({ exe: entry.exe, sha256: entry.sha256.filter((digest) => digest.length <= 128), parents: entry.parents.filter((parent) => parent.length <= maxText), source: entry.source, firstSeen: entry.firstSeen })),
      egress: allow.egress.filter((entry) => entry.address.length <= 64).map((entry) => ({ ...entry })),
      listen: allow.listen.map((entry) => ({ ...entry })),
      fileWrites: allow.fileWrites.filter((entry) => entry.pattern.length <= maxText).map((entry) => ({ ...entry })),
      ...(allow.syscalls !== undefined ? { syscalls: allow.syscalls.filter((name) => name.length <= 64) } : {}),
      cpu,
    },
    revision: local.revision,
  };
  return { id: local.id, revision: local.revision, document, ...(state?.relearnRequestedAt !== undefined ? { relearnRequestedAt: state.relearnRequestedAt } : {}) };
}

export interface AppliedFleetProfile {
  /** The node's profile with the fleet's taken in; undefined when nothing changed. */
  profile?: Profile;
  change?: ProfileChange;
  state: FleetProfileState;
}

function comparable(profile: Profile): string {
  return JSON.stringify({ ...profile, revision: 0 });
}

/**
 * The node's profile after taking the fleet's in: the union of both, the node's own CPU samples plus the other
 * nodes', the console's mode when a person set one, and an approval or relearn request not yet carried out here.
 * A profile the node does not have yet is created from the fleet's, so a replica that starts here later is
 * protected from its first second.
 */
export function applyFleetProfile(local: Profile | undefined, update: FleetProfileUpdate, state: FleetProfileState | undefined, now: number): AppliedFleetProfile {
  const isNewRelearn = update.relearnRequestedAt !== null && update.relearnRequestedAt > (state?.relearnRequestedAt ?? -1);
  const isNewApproval = update.approvedAt !== null && update.approvedAt > (state?.approvedAt ?? -1);
  const next: FleetProfileState = {
    othersCpu: { histogram: update.othersCpu.histogram, bucketCores: update.othersCpu.bucketCores, samples: update.othersCpu.samples },
    ...(update.approvedAt !== null ? { approvedAt: update.approvedAt } : state?.approvedAt !== undefined ? { approvedAt: state.approvedAt } : {}),
    ...(update.relearnRequestedAt !== null ? { relearnRequestedAt: update.relearnRequestedAt } : state?.relearnRequestedAt !== undefined ? { relearnRequestedAt: state.relearnRequestedAt } : {}),
  };
  const fleet = update.document;
  const others = envelope(update.othersCpu, fleet.allow.cpu.bucketCores);

  let base: Profile;
  let kind: ProfileChange['kind'] = 'learned';
  const reasons: string[] = [];
  if (!local) {
    base = { ...fleet, allow: { ...fleet.allow, cpu: emptyAllowances(fleet.allow.cpu.bucketCores).cpu }, revision: 0 };
    kind = 'created';
    reasons.push('learned on other nodes');
  } else if (isNewRelearn) {
    // What this node learned before the request is void; what other nodes learned since is not.
    base = relearn(local, now);
    kind = 'relearn';
    reasons.push('relearn requested on the console');
  } else {
    const own = subtractEnvelope(local.allow.cpu, envelope(state?.othersCpu, local.allow.cpu.bucketCores));
    base = { ...local, allow: { ...local.allow, cpu: own } };
  }
  // The fleet's first, the node's last: the node keeps its own mode, image and selector unless told otherwise.
  let merged = mergeProfiles([{ ...fleet, allow: { ...fleet.allow, cpu: others } }, base]);
  // The sum again, in the node's own buckets (the merge takes the first profile's).
  merged = { ...merged, allow: { ...merged.allow, cpu: sumEnvelopes([base.allow.cpu, others]) } };
  if (update.modeSetBy !== null && merged.mode !== update.mode) {
    merged = { ...merged, mode: update.mode };
    if (kind === 'learned') kind = 'mode-changed';
    reasons.push(`mode ${update.mode} set on the console`);
  } else if (update.modeSetBy === null) {
    merged = { ...merged, mode: base.mode };
  }
  if (isNewApproval && merged.phase === 'learning') {
    merged = approve(merged, now);
    if (kind === 'learned' || kind === 'mode-changed') kind = 'approved';
    reasons.push('approved on the console');
  }
  if (local && local.phase === 'learning' && merged.phase === 'enforcing' && kind === 'learned') {
    kind = 'phase-changed';
    reasons.push('another node enforces it');
  }
  const revision = (local?.revision ?? 0) + 1;
  if (local && comparable(merged) === comparable(local)) return { state: next };
  const learned = local ? merged.allow.processes.length + merged.allow.egress.length + merged.allow.listen.length + merged.allow.fileWrites.length - (local.allow.processes.length + local.allow.egress.length + local.allow.listen.length + local.allow.fileWrites.length) : 0;
  if (kind === 'learned' && learned > 0) reasons.push(`${learned} allowances learned on other nodes`);
  return {
    profile: { ...merged, revision },
    change: { kind, detail: `from the console (fleet revision ${update.revision}): ${reasons.join('; ') || 'merged with other nodes'}` },
    state: next,
  };
}
