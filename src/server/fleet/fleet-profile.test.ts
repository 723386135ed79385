import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { emptyAllowances, type Profile } from '../../profile/profile.ts';
import { profileIdFor } from '../../profile/workload-key.ts';
import { awaitingRelearn, currentContributions, fleetProfile, withConsoleDecisions, type ConsoleDecisions } from './fleet-profile.ts';

const key = { imageDigest: 'sha256:5', workload: 'container:web' };
const base: Profile = { id: profileIdFor(key), key, mode: 'alert', phase: 'learning', learningStartedAt: 10, lastNewBehaviourAt: 10, selector: {}, allow: emptyAllowances(), revision: 1 };
const none: ConsoleDecisions = { mode: 'alert', modeSetBy: null, approvedAt: null, relearnRequestedAt: null };

describe('the fleet profile', () => {
  it('merges only contributions received since the latest relearn request, oldest first', () => {
    const contributions = [
      { agentId: 'b', receivedAt: 300, document: base },
      { agentId: 'a', receivedAt: 100, document: base },
      { agentId: 'c', receivedAt: 300, document: base },
    ];
    assert.deepEqual(currentContributions(contributions, null).map((c) => c.agentId), ['a', 'b', 'c']);
    assert.deepEqual(currentContributions(contributions, 200).map((c) => c.agentId), ['b', 'c']);
  });

  it('lets a person’s mode win, and only then', () => {
    assert.equal(fleetProfile([{ ...base, mode: 'learn' }], { ...none, mode: 'prevent', modeSetBy: 'user:1' }).mode, 'prevent');
    assert.equal(fleetProfile([{ ...base, mode: 'learn' }], { ...none, mode: 'prevent' }).mode, 'learn');
  });

  it('enforces after an approval newer than any relearn request', () => {
    assert.deepEqual(
      [withConsoleDecisions(base, { ...none, approvedAt: 50 }).phase, withConsoleDecisions(base, { ...none, approvedAt: 50 }).enforcingSince],
      ['enforcing', 50],
    );
    assert.equal(withConsoleDecisions(base, { ...none, approvedAt: 50, relearnRequestedAt: 60 }).phase, 'learning');
  });

  it('voids what was learned before a relearn request while no node has contributed since', () => {
    const learned = { ...base, phase: 'enforcing' as const, enforcingSince: 20, allow: { ...emptyAllowances(), listen: [{ port: 80, protocol: 'tcp' as const, source: 'learned' as const, firstSeen: 15 }] }, revision: 7 };
    const pending = awaitingRelearn(learned, { ...none, relearnRequestedAt: 99 });
    assert.deepEqual([pending.phase, pending.allow.listen.length, pending.learningStartedAt, pending.revision, 'enforcingSince' in pending], ['learning', 0, 99, 7, false]);
  });
});
