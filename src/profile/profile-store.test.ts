import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Kysely } from 'kysely';
import type { RuntimeEvent } from '../agent/event.ts';
import { isNomineError } from '../core/errors.ts';
import { openStore } from '../store/open-store.ts';
import type { Database } from '../store/schema.ts';
import { learn } from './learn.ts';
import { approve, createProfile, relearn, setMode } from './lifecycle.ts';
import { describeDiff } from './profile-diff.ts';
import { ProfileStore } from './profile-store.ts';
import type { Profile } from './profile.ts';

const rounds = 40;
const t0 = 1_700_000_000_000;
const entity = { id: 'c1', name: 'web-1', runtime: 'docker' as const, image: 'web:1', imageDigest: 'sha256:' + 'ab'.repeat(32), labels: { app: 'web' } };
const base = { sensor: 'ebpf' as const, entityId: 'c1', pid: 9 };
const exec = (at: number, exe: string): RuntimeEvent => ({ ...base, at, type: 'exec', ppid: 1, uid: 0, exe, argv: [exe], sha256: 'aa'.repeat(32) });

function conflict(error: unknown): boolean {
  return isNomineError(error) && error.code === 'conflict';
}

describe('the profile store', () => {
  let home: string;
  const open: Kysely<Database>[] = [];
  async function connect(): Promise<ProfileStore> {
    const db = await openStore(home);
    open.push(db);
    return new ProfileStore(db);
  }

  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'nomine-profiles-'));
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((db) => db.destroy()));
    await rm(home, { recursive: true, force: true });
  });

  /** A profile that learned /bin/sh and /bin/wget, saved as the agent would, one change at a time. */
  async function learnedInto(store: ProfileStore): Promise<Profile> {
    let profile = createProfile(entity, t0);
    await store.create(profile, t0);
    for (const [offset, exe] of [[1, '/bin/sh'], [2, '/bin/wget']] as const) {
      const result = learn(profile, exec(t0 + offset, exe), t0 + offset);
      await store.update(result.profile, profile, t0 + offset, { kind: 'learned', detail: `exec ${exe}` });
      profile = result.profile;
    }
    return profile;
  }

  it('keeps profiles, their mode and history across a restart', async () => {
    const first = await connect();
    const learned = await learnedInto(first);
    await first.modify(learned.id, t0 + 10, (profile) => ({ profile: setMode(profile, 'prevent'), change: { kind: 'mode-changed', detail: 'alert → prevent' } }));
    await Promise.all(open.splice(0).map((db) => db.destroy()));

    const again = await connect();
    const loaded = await again.require(learned.id);
    assert.equal(loaded.mode, 'prevent');
    assert.deepEqual(loaded.allow, learned.allow);
    assert.deepEqual(loaded.selector, { app: 'web' });
    assert.deepEqual(loaded.key, learned.key);
    assert.deepEqual((await again.history(learned.id)).map((entry) => `${entry.kind}: ${entry.detail}`), [
      'mode-changed: alert → prevent',
      'learned: exec /bin/wget',
      'learned: exec /bin/sh',
      'created: learning container:web (image web:1), mode alert',
    ]);
    const [summary] = await again.list();
    assert.equal(summary?.id, learned.id);
    assert.deepEqual(summary?.counts, { processes: 2, egress: 0, listen: 0, fileWrites: 0 });
  });

  it('refuses a stale write instead of losing an approval', async () => {
    const agent = await connect();
    const cli = await connect();
    const inAgent = await learnedInto(agent);
    await cli.modify(inAgent.id, t0 + 20, (profile) => ({ profile: approve(profile, t0 + 20), change: { kind: 'approved', detail: 'approved by root' } }));
    const stale = learn(inAgent, exec(t0 + 21, '/bin/sleep'), t0 + 21).profile;
    await assert.rejects(agent.update(stale, inAgent, t0 + 21, { kind: 'learned', detail: 'exec /bin/sleep' }), conflict);
    assert.equal((await agent.require(inAgent.id)).phase, 'enforcing');
  });

  it('lets the agent and a command in another process both land their writes, retrying on conflict', async () => {
    const store = await connect();
    const profile = await learnedInto(store);
    const toggle = (current: Profile) => setMode(current, current.mode === 'alert' ? 'prevent' : 'alert');
    // A second process, as `nomine profile set-mode` next to a running agent (one process cannot show this:
    // better-sqlite3 waits for a lock synchronously, blocking the holder in the same event loop).
    const script = join(home, 'writer.mts');
    await writeFile(script, [
      `import { openStore } from ${JSON.stringify(new URL('../store/open-store.ts', import.meta.url).href)};`,
      `import { ProfileStore } from ${JSON.stringify(new URL('./profile-store.ts', import.meta.url).href)};`,
      `import { setMode } from ${JSON.stringify(new URL('./lifecycle.ts', import.meta.url).href)};`,
      'const [home, id] = process.argv.slice(2);',
      'const db = await openStore(home);',
      'const store = new ProfileStore(db);',
      'process.stdout.write("ready\\n");',
      'for (let i = 0; i < rounds; i++) await store.modify(id, 1, (p) => ({ profile: setMode(p, p.mode === "alert" ? "prevent" : "alert"), change: { kind: "mode-changed", detail: "child" } }), 100);',
      'await db.destroy();',
    ].join('\n').replace('rounds', String(rounds)));
    const child = spawn(process.execPath, ['--import', 'tsx', script, home, profile.id], { cwd: fileURLToPath(new URL('../..', import.meta.url)), stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = once(child, 'exit');
    const [line] = await Promise.race([once(createInterface({ input: child.stdout }), 'line'), exited.then(() => ['(exited before it was ready)'])]);
    assert.equal(line, 'ready');
    for (let i = 0; i < rounds; i++) {
      await store.modify(profile.id, t0 + 30, (current) => ({ profile: toggle(current), change: { kind: 'mode-changed', detail: 'parent' } }), 100);
    }
    assert.deepEqual(await exited, [0, null]);
    const final = await store.require(profile.id);
    assert.equal(final.revision, profile.revision + 2 * rounds);
    const details = (await store.history(profile.id, 1000)).filter((entry) => entry.kind === 'mode-changed').map((entry) => entry.detail);
    assert.deepEqual([details.filter((detail) => detail === 'parent').length, details.filter((detail) => detail === 'child').length], [rounds, rounds]);
  });

  it('refuses to create a profile twice and to update one that does not exist', async () => {
    const store = await connect();
    const profile = createProfile(entity, t0);
    await store.create(profile, t0);
    await assert.rejects(store.create(profile, t0), conflict);
    const other = { ...profile, id: 'wl-000000000000' };
    await assert.rejects(store.update({ ...other, revision: 5 }, other, t0), (error: unknown) => isNomineError(error) && error.code === 'not-found');
    await assert.rejects(store.require('wl-ffffffffffff'), (error: unknown) => isNomineError(error) && error.code === 'not-found');
  });

  it('snapshots approvals and relearns, and diffs a profile against its previous snapshot', async () => {
    const store = await connect();
    const learned = await learnedInto(store);
    const approved = await store.modify(learned.id, t0 + 40, (profile) => ({ profile: approve(profile, t0 + 40), change: { kind: 'approved', detail: 'approved' } }));
    const relearning = await store.modify(learned.id, t0 + 50, (profile) => ({ profile: relearn(profile, t0 + 50), change: { kind: 'relearn', detail: 'relearn requested' } }));
    assert.deepEqual((await store.snapshots(learned.id)).map((snapshot) => [snapshot.revision, snapshot.reason]), [
      [learned.revision, 'before approved'],
      [approved.revision, 'approved'],
      [relearning.revision, 'relearn'],
    ]);
    // Current (just relearned, empty) against the snapshot before it: what the relearn threw away.
    assert.deepEqual(describeDiff(await store.diff(learned.id, { from: approved.revision })), ['phase enforcing → learning', '- exec /bin/sh', '- exec /bin/wget']);
    assert.deepEqual(describeDiff(await store.diff(learned.id, { from: learned.revision, to: approved.revision })), ['phase learning → enforcing']);
    await assert.rejects(store.diff(learned.id, { from: 2 }), (error: unknown) => isNomineError(error) && error.code === 'not-found');
  });

  it('diffs a profile without snapshots against nothing', async () => {
    const store = await connect();
    const learned = await learnedInto(store);
    assert.deepEqual(describeDiff(await store.diff(learned.id)), ['+ exec /bin/sh', '+ exec /bin/wget']);
  });

  it('names the profile when a stored row is damaged', async () => {
    const db = await openStore(home);
    open.push(db);
    const store = new ProfileStore(db);
    const profile = createProfile(entity, t0);
    await store.create(profile, t0);
    for (const allow of ['{"processes": [', '{"processes": "all"}', 'null']) {
      await db.updateTable('profiles').set({ allow }).where('id', '=', profile.id).execute();
      await assert.rejects(store.load(profile.id), (error: unknown) => isNomineError(error) && error.part === `profile ${profile.id}`, allow);
    }
  });
});
