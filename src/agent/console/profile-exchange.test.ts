import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { addSample, sumEnvelopes } from '../../profile/cpu-envelope.ts';
import { emptyAllowances, type CpuEnvelope, type Profile } from '../../profile/profile.ts';
import { profileIdFor } from '../../profile/workload-key.ts';
import { applyFleetProfile, contributionOf, type FleetProfileUpdate } from './profile-exchange.ts';

const key = { imageDigest: 'sha256:77', workload: 'compose:shop/api' };

function cpu(samples: number[]): CpuEnvelope {
  return samples.reduce((env, cores) => addSample(env, cores), emptyAllowances().cpu);
}

function profile(exes: string[], samples: number[] = [], overrides: Partial<Profile> = {}): Profile {
  return {
    id: profileIdFor(key),
    key,
    mode: 'alert',
    phase: 'learning',
    learningStartedAt: 1_000,
    lastNewBehaviourAt: 1_000,
    selector: {},
    allow: { ...emptyAllowances(), processes: exes.map((exe) => ({ exe, sha256: [], parents: [], source: 'learned' as const, firstSeen: 1_000 })), cpu: cpu(samples) },
    revision: 4,
    ...overrides,
  };
}

function update(document: Profile, others: CpuEnvelope, overrides: Partial<FleetProfileUpdate> = {}): FleetProfileUpdate {
  return { id: document.id, revision: 10, mode: document.mode, modeSetBy: null, approvedAt: null, relearnRequestedAt: null, document, othersCpu: others, ...overrides };
}

describe('profiles between a node and the console', () => {
  it('takes in what other nodes learned, and keeps counting its own CPU samples apart', () => {
    const local = profile(['/bin/api'], [0.1, 0.1]);
    const othersCpu = cpu([1, 1, 1]);
    const fleet = profile(['/bin/api', '/bin/worker'], [], { allow: { ...profile(['/bin/api', '/bin/worker']).allow, cpu: sumEnvelopes([local.allow.cpu, othersCpu]) } });
    const applied = applyFleetProfile(local, update(fleet, othersCpu), undefined, 5_000);
    assert.ok(applied.profile);
    assert.deepEqual(applied.profile.allow.processes.map((p) => p.exe), ['/bin/api', '/bin/worker']);
    assert.equal(applied.profile.allow.cpu.samples, 5, 'own 2 plus the others’ 3, not the fleet’s 5 on top of its own');
    assert.equal(applied.profile.revision, 5);
    assert.equal(applied.change?.kind, 'learned');
    // What the node sends back is its own samples only: the console's sum stays 5.
    const sent = contributionOf(applied.profile, applied.state);
    assert.equal(sent?.document.allow.cpu.samples, 2);
    assert.deepEqual(sent?.document.allow.processes.map((p) => p.exe), ['/bin/api', '/bin/worker']);
  });

  it('changes nothing when the fleet has nothing new', () => {
    const local = profile(['/bin/api'], [0.1]);
    const first = applyFleetProfile(local, update(profile(['/bin/api'], [0.1]), emptyAllowances().cpu), undefined, 5_000);
    const settled = first.profile ?? local;
    const again = applyFleetProfile(settled, update(profile(['/bin/api'], [0.1]), emptyAllowances().cpu, { revision: 11 }), first.state, 6_000);
    assert.equal(again.profile, undefined);
  });

  it('follows a mode a person set, but not the nodes’ mode', () => {
    const local = profile(['/bin/api'], [], { mode: 'alert' });
    const fromNodes = applyFleetProfile(local, update(profile(['/bin/api'], [], { mode: 'learn' }), emptyAllowances().cpu), undefined, 5_000);
    assert.equal((fromNodes.profile ?? local).mode, 'alert');
    const fromPerson = applyFleetProfile(local, update(profile(['/bin/api'], [], { mode: 'prevent' }), emptyAllowances().cpu, { mode: 'prevent', modeSetBy: 'user:1' }), undefined, 5_000);
    assert.equal(fromPerson.profile?.mode, 'prevent');
    assert.equal(fromPerson.change?.kind, 'mode-changed');
  });

  it('carries out an approval once, and enforces when another node does', () => {
    const local = profile(['/bin/api']);
    const approved = applyFleetProfile(local, update(profile(['/bin/api']), emptyAllowances().cpu, { approvedAt: 4_000 }), undefined, 5_000);
    assert.deepEqual([approved.profile?.phase, approved.profile?.enforcingSince, approved.change?.kind], ['enforcing', 5_000, 'approved']);
    // The node relearned on its own afterwards; the same approval is not carried out a second time.
    const relearned = { ...approved.profile!, phase: 'learning' as const, enforcingSince: undefined, revision: 9 };
    const again = applyFleetProfile(relearned, update(profile(['/bin/api']), emptyAllowances().cpu, { approvedAt: 4_000, revision: 12 }), approved.state, 6_000);
    assert.equal((again.profile ?? relearned).phase, 'learning');
    const elsewhere = applyFleetProfile(local, update(profile(['/bin/api'], [], { phase: 'enforcing', enforcingSince: 3_000 }), emptyAllowances().cpu), undefined, 5_000);
    assert.deepEqual([elsewhere.profile?.phase, elsewhere.change?.kind], ['enforcing', 'phase-changed']);
  });

  it('carries out a relearn request once: forgets what it learned before, and says so when it contributes', () => {
    const local = profile(['/bin/old'], [0.5, 0.5], { phase: 'enforcing', enforcingSince: 2_000 });
    const empty = profile([], [], { learningStartedAt: 4_000, lastNewBehaviourAt: 4_000 });
    const applied = applyFleetProfile(local, update(empty, emptyAllowances().cpu, { relearnRequestedAt: 4_000 }), undefined, 5_000);
    assert.deepEqual([applied.profile?.phase, applied.profile?.allow.processes.length, applied.profile?.allow.cpu.samples, applied.change?.kind], ['learning', 0, 0, 'relearn']);
    assert.equal(contributionOf(applied.profile!, applied.state)?.relearnRequestedAt, 4_000);
    const later = { ...applied.profile!, allow: { ...applied.profile!.allow, processes: [{ exe: '/bin/new', sha256: [], parents: [], source: 'learned' as const, firstSeen: 6_000 }] }, revision: applied.profile!.revision + 1 };
    const again = applyFleetProfile(later, update(empty, emptyAllowances().cpu, { relearnRequestedAt: 4_000, revision: 13 }), applied.state, 7_000);
    assert.deepEqual((again.profile ?? later).allow.processes.map((p) => p.exe), ['/bin/new'], 'the same request is not carried out twice');
  });

  it('creates a profile the node has not seen yet from the fleet’s', () => {
    const fleet = profile(['/bin/api'], [0.3], { phase: 'enforcing', enforcingSince: 3_000 });
    const applied = applyFleetProfile(undefined, update(fleet, fleet.allow.cpu), undefined, 5_000);
    assert.deepEqual([applied.profile?.revision, applied.profile?.phase, applied.profile?.allow.cpu.samples, applied.change?.kind], [1, 'enforcing', 1, 'created']);
    assert.equal(contributionOf(applied.profile!, applied.state)?.document.allow.cpu.samples, 0, 'none of those samples are the node’s own');
  });

  it('leaves out of its contribution what the console would refuse', () => {
    const local = profile([`/${'x'.repeat(5000)}`, '/bin/ok'], [], { selector: { app: 'api', ['k'.repeat(400)]: 'v' } });
    const sent = contributionOf(local, undefined)!;
    assert.deepEqual(sent.document.allow.processes.map((p) => p.exe), ['/bin/ok']);
    assert.deepEqual(sent.document.selector, { app: 'api' });
    assert.equal(contributionOf({ ...local, key: { ...key, workload: 'w'.repeat(600) } }, undefined), undefined);
  });
});
