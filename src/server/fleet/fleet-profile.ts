/**
 * The fleet's profile of one workload: the merge of every node's current contribution, with what people decided
 * on the console laid over it. A mode a person set wins over the nodes' mode; an approval makes it enforce; a
 * relearn request voids every contribution learned before it (a node's contribution counts again once it was sent
 * after the node carried the request out). Pure: the ingest and the sync read the rows and call these.
 */
import { relearn } from '../../profile/lifecycle.ts';
import { mergeProfiles } from '../../profile/merge-profiles.ts';
import type { EnforcementMode, Profile } from '../../profile/profile.ts';

/** What the console's people decided about a profile (columns of server_profiles). */
export interface ConsoleDecisions {
  mode: EnforcementMode;
  /** Set when a person chose `mode`; null while the mode follows the nodes. */
  modeSetBy: string | null;
  approvedAt: number | null;
  relearnRequestedAt: number | null;
}

/** The decisions as server_profiles stores them (its bigint columns may come back as strings or bigints). */
export function decisionsOf(row: { mode: string; mode_set_by: string | null; approved_at: unknown; relearn_requested_at: unknown }): ConsoleDecisions {
  return {
    mode: row.mode as EnforcementMode,
    modeSetBy: row.mode_set_by,
    approvedAt: row.approved_at === null ? null : Number(row.approved_at),
    relearnRequestedAt: row.relearn_requested_at === null ? null : Number(row.relearn_requested_at),
  };
}

export interface Contribution {
  agentId: string;
  receivedAt: number;
  document: Profile;
}

/** Contributions received since the latest relearn request, oldest first (ties by agent, for a stable merge). */
export function currentContributions(contributions: readonly Contribution[], relearnRequestedAt: number | null): Contribution[] {
  return contributions
    .filter((contribution) => relearnRequestedAt === null || contribution.receivedAt >= relearnRequestedAt)
    .sort((a, b) => a.receivedAt - b.receivedAt || (a.agentId < b.agentId ? -1 : a.agentId > b.agentId ? 1 : 0));
}

/** A mode set by a person, and an approval newer than any relearn request, laid over a merged profile. */
export function withConsoleDecisions(profile: Profile, decisions: ConsoleDecisions | undefined): Profile {
  if (!decisions) return profile;
  let result = profile;
  if (decisions.modeSetBy !== null && result.mode !== decisions.mode) result = { ...result, mode: decisions.mode };
  const approved = decisions.approvedAt !== null && (decisions.relearnRequestedAt === null || decisions.approvedAt > decisions.relearnRequestedAt);
  if (approved && result.phase !== 'enforcing') result = { ...result, phase: 'enforcing', enforcingSince: decisions.approvedAt! };
  return result;
}

/** The fleet profile from current contributions (oldest first, at least one). */
export function fleetProfile(contributions: readonly Profile[], decisions?: ConsoleDecisions): Profile {
  return withConsoleDecisions(mergeProfiles(contributions), decisions);
}

/**
 * The fleet profile as agents must see it while a relearn request has no contribution after it yet: what was
 * learned before the request is void, so it goes out empty and learning from the request on.
 */
export function awaitingRelearn(stored: Profile, decisions: ConsoleDecisions): Profile {
  const emptied = relearn(stored, decisions.relearnRequestedAt ?? stored.learningStartedAt);
  return withConsoleDecisions({ ...emptied, revision: stored.revision }, decisions);
}
