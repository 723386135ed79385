import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isNomineError } from '../core/errors.ts';
import { learn } from './learn.ts';
import {
  approve,
  createProfile,
  defaultEnforcementMode,
  defaultLifecycleSettings,
  formatDuration,
  learningProgress,
  nextObservedPhase,
  nextPhase,
  parseDuration,
  relearn,
  setMode,
} from './lifecycle.ts';

const t0 = 1_700_000_000_000;
const settings = { learningMinMs: 2000, learningQuietMs: 1000 };
const entity = { id: 'c1', name: 'web-1', runtime: 'docker' as const, image: 'web:1', imageDigest: 'sha256:' + 'ab'.repeat(32), labels: {} };
const exec = (at: number, exe: string) => ({ at, sensor: 'ebpf' as const, entityId: 'c1', pid: 9, type: 'exec' as const, ppid: 1, uid: 0, exe, argv: [exe] });

describe('profile lifecycle', () => {
  it('starts learning in the safe default mode', () => {
    const profile = createProfile(entity, t0);
    assert.equal(profile.phase, 'learning');
    assert.equal(profile.mode, 'alert');
    assert.equal(defaultEnforcementMode, 'alert');
    assert.match(profile.id, /^wl-[0-9a-f]{12}$/);
    assert.deepEqual(profile.key, { imageDigest: entity.imageDigest, workload: 'container:web' });
  });

  it('enforces only after the minimum time AND a quiet period without new behaviour', () => {
    let profile = createProfile(entity, t0);
    profile = learn(profile, exec(t0 + 1500, '/bin/sh'), t0 + 1500).profile;
    assert.equal(nextPhase(profile, t0 + 2000, settings).phase, 'learning', 'min passed, but something new 500 ms ago');
    assert.equal(nextPhase(profile, t0 + 2499, settings).phase, 'learning');
    const switched = nextPhase(profile, t0 + 2500, settings);
    assert.equal(switched.phase, 'enforcing');
    assert.equal(switched.enforcingSince, t0 + 2500);
    assert.equal(switched.revision, profile.revision + 1);
    const quiet = createProfile(entity, t0);
    assert.equal(nextPhase(quiet, t0 + 1999, settings).phase, 'learning', 'quiet, but the minimum has not passed');
    assert.equal(nextPhase(quiet, t0 + 2000, settings).phase, 'enforcing');
  });

  it('counts learning time only while the sensor watches, so an unwatched profile never enforces an empty list', () => {
    const profile = createProfile(entity, t0);
    assert.equal(nextObservedPhase(profile, t0 + 60_000, settings, undefined).phase, 'learning', 'no sensor yet: nothing learned, nothing enforced');
    // The sensor attached 10 s after the profile was made: the minimum and the quiet period run from there.
    const attached = t0 + 10_000;
    assert.equal(nextObservedPhase(profile, attached + 1999, settings, attached).phase, 'learning');
    const switched = nextObservedPhase(profile, attached + 2000, settings, attached);
    assert.equal(switched.phase, 'enforcing');
    assert.equal(switched.enforcingSince, attached + 2000);
    assert.equal(switched.learningStartedAt, t0, 'the profile keeps its own history');
    assert.equal(switched.revision, profile.revision + 1);
    const enforcing = nextPhase(profile, t0 + 2000, settings);
    assert.equal(nextObservedPhase(enforcing, t0 + 3000, settings, undefined), enforcing, 'an enforcing profile stays so when the sensor fails');
  });

  it('reports how long learning still has to go', () => {
    const profile = learn(createProfile(entity, t0), exec(t0 + 1500, '/bin/sh'), t0 + 1500).profile;
    assert.deepEqual(learningProgress(profile, t0 + 1800, settings), { minRemainingMs: 200, quietRemainingMs: 700 });
  });

  it('uses production defaults of an hour of learning and ten quiet minutes', () => {
    assert.deepEqual(defaultLifecycleSettings, { learningMinMs: 3_600_000, learningQuietMs: 600_000 });
    assert.equal(nextPhase(createProfile(entity, t0), t0 + 59 * 60_000).phase, 'learning');
  });

  it('approves now, and relearns from scratch keeping mode and identity', () => {
    let profile = setMode(learn(createProfile(entity, t0), exec(t0 + 1, '/bin/sh'), t0 + 1).profile, 'prevent');
    profile = approve(profile, t0 + 100);
    assert.equal(profile.phase, 'enforcing');
    assert.equal(approve(profile, t0 + 200), profile);
    const again = relearn(profile, t0 + 300);
    assert.equal(again.phase, 'learning');
    assert.equal(again.mode, 'prevent');
    assert.equal(again.id, profile.id);
    assert.equal(again.enforcingSince, undefined);
    assert.deepEqual(again.allow.processes, []);
    assert.equal(again.learningStartedAt, t0 + 300);
    assert.ok(again.revision > profile.revision);
  });

  it('refuses a mode that does not exist', () => {
    assert.throws(() => setMode(createProfile(entity, t0), 'kill'), (error: unknown) => isNomineError(error) && error.code === 'invalid-input' && /learn, alert, prevent, stop/.test(error.message));
  });
});

describe('durations', () => {
  it('parses the units a person types', () => {
    assert.equal(parseDuration('30s'), 30_000);
    assert.equal(parseDuration('10m'), 600_000);
    assert.equal(parseDuration('2h'), 7_200_000);
    assert.equal(parseDuration('1h30m'), 5_400_000);
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration(' 1.5s '), 1500);
    assert.equal(parseDuration('7d'), 604_800_000);
  });

  it('refuses bare numbers, unknown units, garbage and absurd lengths', () => {
    for (const bad of ['', '30', '10 m', '5y', '-1s', 's', '1h-30m', 'abc', '1e3s', '9'.repeat(100) + 's', '400d']) {
      assert.throws(() => parseDuration(bad), (error: unknown) => isNomineError(error) && error.code === 'invalid-input', bad);
    }
  });

  it('formats durations for messages', () => {
    assert.equal(formatDuration(5_400_000), '1h30m');
    assert.equal(formatDuration(250), '250ms');
    assert.equal(formatDuration(90_061_000), '1d1h1m1s');
  });
});
