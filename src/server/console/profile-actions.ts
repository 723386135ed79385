/**
 * What a person does to a merged profile from the console: approve (enforce what was learned, now), relearn
 * (forget it and learn again on every node) and set the mode. Each change takes a new server revision, so every
 * agent picks it up at its next sync, and is written to the audit log in the same transaction. Repeating an
 * action that changes nothing (approving an approved profile) answers `changed: false` and records nothing.
 * The decisions live in server_profiles' columns, which the fleet merge lays over every later merge
 * (src/server/fleet/fleet-profile.ts); the stored document is updated too, so it reads true until then.
 */
import { NomineError } from '../../core/errors.ts';
import { emptyAllowances, type EnforcementMode } from '../../profile/profile.ts';
import type { ServerProfilesTable } from '../../store/migrations-server.ts';
import { recordAudit } from '../fleet/audit-log.ts';
import { nextProfileRevision } from '../fleet/profile-revision.ts';
import type { ServerStore } from '../server-store.ts';
import { parseJsonObject } from './json-object.ts';
type Changes = Partial<Omit<ServerProfilesTable, 'id' | 'created_at'>>;

export interface ActionContext {
  /** `user:<id>` or `token:<id>`. */
  actor: string;
  now: number;
}

export interface ActionOutcome {
  changed: boolean;
  revision: number;
}

export function approveProfile(db: ServerStore, id: string, context: ActionContext): Promise<ActionOutcome> {
  return changeProfile(db, id, context, 'profile.approve', (row, now) => {
    if (row.phase === 'enforcing' && row.approved_at !== null) return undefined;
    return {
      // relearn_requested_at stays: it still voids what nodes learned before it; an approval after it wins.
      changes: { phase: 'enforcing', approved_at: now, approved_by: context.actor },
      document: (profile) => ({ ...profile, phase: 'enforcing', enforcingSince: profile.enforcingSince ?? now }),
      detail: { from: row.phase },
    };
  });
}

export function relearnProfile(db: ServerStore, id: string, context: ActionContext): Promise<ActionOutcome> {
  return changeProfile(db, id, context, 'profile.relearn', (_row, now) => ({
    changes: { phase: 'learning', relearn_requested_at: now, approved_at: null, approved_by: null },
    document: (profile) => {
      const { enforcingSince: _dropped, ...rest } = profile;
      const cpu = profile.allow !== null && typeof profile.allow === 'object' ? (profile.allow as { cpu?: { bucketCores?: unknown } }).cpu : undefined;
      const bucketCores = typeof cpu?.bucketCores === 'number' && cpu.bucketCores > 0 ? cpu.bucketCores : undefined;
      return { ...rest, phase: 'learning', learningStartedAt: now, lastNewBehaviourAt: now, allow: emptyAllowances(bucketCores) };
    },
  }));
}

export function setProfileMode(db: ServerStore, id: string, mode: EnforcementMode, context: ActionContext): Promise<ActionOutcome> {
  return changeProfile(db, id, context, 'profile.set-mode', (row) => {
    if (row.mode === mode && row.mode_set_by === context.actor) return undefined;
    return {
      changes: { mode, mode_set_by: context.actor },
      document: (profile) => ({ ...profile, mode }),
      detail: { from: row.mode, to: mode },
    };
  });
}

interface Change {
  changes: Changes;
  document: (profile: Record<string, unknown>) => Record<string, unknown>;
  detail?: Record<string, unknown>;
}

async function changeProfile(
  db: ServerStore,
  id: string,
  context: ActionContext,
  action: string,
  decide: (row: ServerProfilesTable, now: number) => Change | undefined,
): Promise<ActionOutcome> {
  return db.transaction().execute(async (trx) => {
    // Write first, so the transaction holds SQLite's write lock before it reads (no lock upgrade between readers).
    const touched = await trx.updateTable('server_profiles').set((eb) => ({ updated_at: eb.ref('updated_at') })).where('id', '=', id).executeTakeFirst();
    if (Number(touched.numUpdatedRows) === 0) throw new NomineError('not-found', 'no profile has this id', `profile ${id}`);
    const row = await trx.selectFrom('server_profiles').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    const change = decide(row, context.now);
    if (!change) return { changed: false, revision: Number(row.revision) };
    const revision = await nextProfileRevision(trx);
    await trx
      .updateTable('server_profiles')
      .set({ ...change.changes, revision, updated_at: context.now, document: rewrite(row.document, (profile) => ({ ...change.document(profile), revision })) })
      .where('id', '=', id)
      .execute();
    await recordAudit(trx, { actor: context.actor, action, target: `profile:${id}`, detail: { ...change.detail, revision } }, context.now);
    return { changed: true, revision };
  });
}

/** The merged document with the change applied; a document that is not a JSON object is left as it is. */
function rewrite(document: string, change: (profile: Record<string, unknown>) => Record<string, unknown>): string {
  const profile = parseJsonObject(document);
  return profile ? JSON.stringify(change(profile)) : document;
}
