/**
 * The profile store: profiles, their history and snapshots in the nomine store (SQLite by default), shared by the
 * agent and the CLI. Writes are compare-and-swap on the revision, so `nomine profile approve` and an agent saving
 * what it learned cannot overwrite each other: the loser gets a `conflict` and retries on the fresh profile
 * (`modify` does that). Snapshots are kept on phase changes, approvals and relearns, for diffs.
 */
import type { Kysely, Selectable } from 'kysely';
import { z } from 'zod';
import { NomineError } from '../core/errors.ts';
import type { Database, ProfilesTable } from '../store/schema.ts';
import { diffProfiles, type ProfileDiff } from './profile-diff.ts';
import { emptyAllowances, enforcementModes, type Allowances, type Profile, type ProfilePhase } from './profile.ts';

export const profileEventKinds = ['created', 'learned', 'approved', 'relearn', 'mode-changed', 'phase-changed'] as const;
export type ProfileEventKind = (typeof profileEventKinds)[number];

/** What a write did, for the history: `{ kind: 'learned', detail: 'exec /bin/wget' }`. */
export interface ProfileChange {
  kind: ProfileEventKind;
  detail: string;
}

export interface ProfileHistoryEntry {
  seq: number;
  at: number;
  kind: ProfileEventKind;
  revision: number;
  detail: string;
}

export interface SnapshotInfo {
  revision: number;
  takenAt: number;
  reason: string;
}

export interface ProfileSummary {
  id: string;
  key: Profile['key'];
  image?: string;
  mode: Profile['mode'];
  phase: ProfilePhase;
  revision: number;
  learningStartedAt: number;
  enforcingSince?: number;
  updatedAt: number;
  counts: { processes: number; egress: number; listen: number; fileWrites: number; syscalls?: number };
}

/** Changes after which the whole profile is kept, so `diff` can show what an approval or a relearn changed. */
const snapshotKinds: ReadonlySet<ProfileEventKind> = new Set(['approved', 'relearn', 'phase-changed']);
const maxDetailChars = 500;
const defaultModifyAttempts = 5;

// The stored JSON is ours, but a store can be edited, restored from an older nomine or damaged; a clear error
// naming the profile beats a crash deep in judge().
const source = z.enum(['learned', 'image', 'approved']);
const protocol = z.enum(['tcp', 'udp']);
const allowancesSchema = z.object({
  processes: z.array(z.object({ exe: z.string(), sha256: z.array(z.string()), parents: z.array(z.string()), source, firstSeen: z.number() })),
  egress: z.array(z.object({ address: z.string(), port: z.number().int(), protocol, source, firstSeen: z.number() })),
  listen: z.array(z.object({ port: z.number().int(), protocol, source, firstSeen: z.number() })),
  fileWrites: z.array(z.object({ pattern: z.string(), source, firstSeen: z.number() })),
  syscalls: z.array(z.string()).optional(),
  cpu: z.object({ histogram: z.array(z.number()), bucketCores: z.number().positive(), samples: z.number(), quantileCores: z.number() }),
});
const metaSchema = z.object({
  selector: z.record(z.string(), z.string()),
  kubernetes: z.object({ namespace: z.string(), workloadKind: z.string().optional(), workloadName: z.string().optional() }).optional(),
});
const profileSchema = z.object({
  id: z.string(),
  key: z.object({ imageDigest: z.string(), workload: z.string() }),
  image: z.string().optional(),
  mode: z.enum(enforcementModes),
  phase: z.enum(['learning', 'enforcing']),
  learningStartedAt: z.number(),
  lastNewBehaviourAt: z.number(),
  enforcingSince: z.number().optional(),
  selector: z.record(z.string(), z.string()),
  kubernetes: metaSchema.shape.kubernetes,
  allow: allowancesSchema,
  revision: z.number().int(),
});

function parseJson<T>(schema: z.ZodType<T>, text: string, part: string): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new NomineError('internal', `stored profile is not valid JSON: ${(error as Error).message}`, part, { cause: error });
  }
  const result = schema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new NomineError('internal', `stored profile is damaged: ${issue.path.map(String).join('.')}: ${issue.message}`, part);
  }
  return result.data;
}

function rowOf(profile: Profile, now: number): ProfilesTable {
  return {
    id: profile.id,
    image_digest: profile.key.imageDigest,
    workload: profile.key.workload,
    image: profile.image ?? null,
    mode: profile.mode,
    phase: profile.phase,
    learning_started_at: profile.learningStartedAt,
    last_new_behaviour_at: profile.lastNewBehaviourAt,
    enforcing_since: profile.enforcingSince ?? null,
    revision: profile.revision,
    meta: JSON.stringify({ selector: profile.selector, ...(profile.kubernetes ? { kubernetes: profile.kubernetes } : {}) }),
    allow: JSON.stringify(profile.allow),
    created_at: now,
    updated_at: now,
  };
}

function profileOf(row: Selectable<ProfilesTable>): Profile {
  const part = `profile ${row.id}`;
  const mode = z.enum(enforcementModes).safeParse(row.mode);
  const phase = z.enum(['learning', 'enforcing']).safeParse(row.phase);
  if (!mode.success || !phase.success) throw new NomineError('internal', `stored profile has an unknown mode or phase (${row.mode}, ${row.phase})`, part);
  const meta = parseJson(metaSchema, row.meta, part);
  const allow: Allowances = parseJson(allowancesSchema, row.allow, part);
  return {
    id: row.id,
    key: { imageDigest: row.image_digest, workload: row.workload },
    ...(row.image !== null ? { image: row.image } : {}),
    mode: mode.data,
    phase: phase.data,
    learningStartedAt: Number(row.learning_started_at),
    lastNewBehaviourAt: Number(row.last_new_behaviour_at),
    ...(row.enforcing_since !== null ? { enforcingSince: Number(row.enforcing_since) } : {}),
    selector: meta.selector,
    ...(meta.kubernetes ? { kubernetes: meta.kubernetes } : {}),
    allow,
    revision: Number(row.revision),
  };
}

function clip(detail: string): string {
  return detail.length > maxDetailChars ? `${detail.slice(0, maxDetailChars)}…` : detail;
}

/** An empty profile at revision 0, to diff a profile that has no earlier snapshot against. */
function emptyVersionOf(profile: Profile): Profile {
  return { ...profile, phase: 'learning', allow: emptyAllowances(profile.allow.cpu.bucketCores), revision: 0 };
}

export class ProfileStore {
  constructor(private readonly db: Kysely<Database>) {}

  /** Stores a new profile; `conflict` when one with its id exists (another agent created it first). */
  async create(profile: Profile, now: number): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      // Insert first (taking the write lock at once); an existing row makes it a no-op that changes nothing.
      const result = await trx.insertInto('profiles').values(rowOf(profile, now)).onConflict((conflict) => conflict.column('id').doNothing()).executeTakeFirst();
      if (Number(result.numInsertedOrUpdatedRows ?? 0n) === 0) throw new NomineError('conflict', 'a profile with this id exists already', `profile ${profile.id}`);
      const detail = `learning ${profile.key.workload} (image ${profile.image ?? profile.key.imageDigest}), mode ${profile.mode}`;
      await trx.insertInto('profile_events').values({ profile_id: profile.id, at: now, kind: 'created', revision: profile.revision, detail: clip(detail) }).execute();
    });
  }

  /**
   * Replaces `previous` with `next`, only if the stored profile is still at `previous.revision`; otherwise throws
   * `conflict` (or `not-found`). Records `change` in the history, and snapshots both versions on phase changes,
   * approvals and relearns.
   */
  async update(next: Profile, previous: Profile, now: number, change?: ProfileChange): Promise<void> {
    if (next.id !== previous.id) throw new NomineError('internal', `cannot replace profile ${previous.id} with ${next.id}`, `profile ${previous.id}`);
    if (next.revision <= previous.revision) {
      throw new NomineError('internal', `revision ${next.revision} does not follow ${previous.revision}`, `profile ${next.id}`);
    }
    const { created_at: _created, ...row } = rowOf(next, now);
    await this.db.transaction().execute(async (trx) => {
      // The write comes first, so the transaction holds the write lock before it reads anything (no upgrade deadlock).
      const result = await trx.updateTable('profiles').set(row).where('id', '=', next.id).where('revision', '=', previous.revision).executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) {
        const stored = await trx.selectFrom('profiles').select('revision').where('id', '=', next.id).executeTakeFirst();
        if (!stored) throw new NomineError('not-found', 'no such profile', `profile ${next.id}`);
        throw new NomineError('conflict', `profile changed meanwhile (revision ${stored.revision}, expected ${previous.revision})`, `profile ${next.id}`);
      }
      if (change) {
        await trx.insertInto('profile_events').values({ profile_id: next.id, at: now, kind: change.kind, revision: next.revision, detail: clip(change.detail) }).execute();
      }
      if ((change && snapshotKinds.has(change.kind)) || next.phase !== previous.phase) {
        const reason = change?.kind ?? 'phase-changed';
        for (const [version, why] of [[previous, `before ${reason}`], [next, reason]] as const) {
          await trx
            .insertInto('profile_snapshots')
            .values({ profile_id: version.id, revision: version.revision, taken_at: now, reason: why, document: JSON.stringify(version) })
            .onConflict((conflict) => conflict.columns(['profile_id', 'revision']).doNothing())
            .execute();
        }
      }
    });
  }

  /**
   * Load, change, save, retrying on conflict: for commands (approve, relearn, set-mode) racing the agent. `change`
   * returns undefined when there is nothing to do. Resolves to the stored profile.
   */
  async modify(id: string, now: number, change: (profile: Profile) => { profile: Profile; change: ProfileChange } | undefined, attempts = defaultModifyAttempts): Promise<Profile> {
    for (let attempt = 1; ; attempt++) {
      const current = await this.require(id);
      const outcome = change(current);
      if (!outcome || outcome.profile === current) return current;
      try {
        await this.update(outcome.profile, current, now, outcome.change);
        return outcome.profile;
      } catch (error) {
        if (!(error instanceof NomineError && error.code === 'conflict') || attempt >= attempts) throw error;
      }
    }
  }

  async load(id: string): Promise<Profile | undefined> {
    const row = await this.db.selectFrom('profiles').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? profileOf(row) : undefined;
  }

  /** Every profile's current revision, in one small query: how the agent notices changes made elsewhere. */
  async revisions(): Promise<Map<string, number>> {
    const rows = await this.db.selectFrom('profiles').select(['id', 'revision']).execute();
    return new Map(rows.map((row) => [row.id, Number(row.revision)]));
  }

  async require(id: string): Promise<Profile> {
    const profile = await this.load(id);
    if (!profile) throw new NomineError('not-found', 'no such profile (see `nomine profile list`)', `profile ${id}`);
    return profile;
  }

  /** The most recently updated profile of a workload (any image): an image change can carry its mode over. */
  async latestForWorkload(workload: string): Promise<Profile | undefined> {
    const row = await this.db.selectFrom('profiles').selectAll().where('workload', '=', workload).orderBy('updated_at', 'desc').limit(1).executeTakeFirst();
    return row ? profileOf(row) : undefined;
  }

  async list(): Promise<ProfileSummary[]> {
    const rows = await this.db.selectFrom('profiles').selectAll().orderBy('workload').orderBy('updated_at', 'desc').execute();
    return rows.map((row) => {
      const profile = profileOf(row);
      return {
        id: profile.id,
        key: profile.key,
        ...(profile.image ? { image: profile.image } : {}),
        mode: profile.mode,
        phase: profile.phase,
        revision: profile.revision,
        learningStartedAt: profile.learningStartedAt,
        ...(profile.enforcingSince !== undefined ? { enforcingSince: profile.enforcingSince } : {}),
        updatedAt: Number(row.updated_at),
        counts: {
          processes: profile.allow.processes.length,
          egress: profile.allow.egress.length,
          listen: profile.allow.listen.length,
          fileWrites: profile.allow.fileWrites.length,
          ...(profile.allow.syscalls ? { syscalls: profile.allow.syscalls.length } : {}),
        },
      };
    });
  }

  /** Newest first. */
  async history(id: string, limit = 100): Promise<ProfileHistoryEntry[]> {
    const rows = await this.db.selectFrom('profile_events').selectAll().where('profile_id', '=', id).orderBy('seq', 'desc').limit(limit).execute();
    return rows.map((row) => ({ seq: row.seq, at: Number(row.at), kind: row.kind as ProfileEventKind, revision: row.revision, detail: row.detail }));
  }

  /** Oldest first. */
  async snapshots(id: string): Promise<SnapshotInfo[]> {
    const rows = await this.db.selectFrom('profile_snapshots').select(['revision', 'taken_at', 'reason']).where('profile_id', '=', id).orderBy('revision').execute();
    return rows.map((row) => ({ revision: row.revision, takenAt: Number(row.taken_at), reason: row.reason }));
  }

  /** The profile as it was at a snapshotted revision, or as it is when `revision` is the current one. */
  async atRevision(id: string, revision: number): Promise<Profile | undefined> {
    const current = await this.load(id);
    if (current?.revision === revision) return current;
    const row = await this.db.selectFrom('profile_snapshots').select('document').where('profile_id', '=', id).where('revision', '=', revision).executeTakeFirst();
    return row ? (parseJson(profileSchema, row.document, `profile ${id} revision ${revision}`) as Profile) : undefined;
  }

  /**
   * `nomine profile diff ID [FROM [TO]]`: between two revisions (each current or snapshotted); by default the
   * current profile against its latest earlier snapshot (or against nothing, when there is none).
   */
  async diff(id: string, revisions: { from?: number; to?: number } = {}): Promise<ProfileDiff> {
    const to = revisions.to === undefined ? await this.require(id) : await this.atRevision(id, revisions.to);
    if (!to) throw new NomineError('not-found', `no snapshot of revision ${revisions.to} (see \`nomine profile history\`)`, `profile ${id}`);
    let from: Profile | undefined;
    if (revisions.from !== undefined) {
      from = await this.atRevision(id, revisions.from);
      if (!from) throw new NomineError('not-found', `no snapshot of revision ${revisions.from} (see \`nomine profile history\`)`, `profile ${id}`);
    } else {
      const earlier = (await this.snapshots(id)).filter((snapshot) => snapshot.revision < to.revision).at(-1);
      from = earlier ? await this.atRevision(id, earlier.revision) : emptyVersionOf(to);
    }
    return diffProfiles(from!, to);
  }
}
