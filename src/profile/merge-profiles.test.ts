import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { addSample, quantile, subtractEnvelope, sumEnvelopes } from './cpu-envelope.ts';
import { mergeAllowances, mergeProfiles } from './merge-profiles.ts';
import { emptyAllowances, type CpuEnvelope, type Profile } from './profile.ts';
import { profileIdFor } from './workload-key.ts';

const key = { imageDigest: 'sha256:aaaa', workload: 'k8s:shop/Deployment/api' };

function profile(overrides: Partial<Profile> = {}, allow: Partial<Profile['allow']> = {}): Profile {
  return {
    id: profileIdFor(key),
    key,
    image: 'shop/api:1.0',
    mode: 'alert',
    phase: 'learning',
    learningStartedAt: 1000,
    lastNewBehaviourAt: 1000,
    selector: { app: 'api' },
    allow: { ...emptyAllowances(), ...allow },
    revision: 3,
    ...overrides,
  };
}

function envelope(samples: number[]): CpuEnvelope {
  return samples.reduce((env, cores) => addSample(env, cores), emptyAllowances().cpu);
}

describe('mergeProfiles', () => {
  it('unions processes with the earliest firstSeen, the strongest source and every digest and parent', () => {
    const a = profile({}, { processes: [{ exe: '/bin/app', sha256: ['bb'], parents: ['/bin/sh'], source: 'learned', firstSeen: 500 }] });
    const b = profile({}, {
      processes: [
        { exe: '/bin/app', sha256: ['aa', 'bb'], parents: ['/sbin/init'], source: 'approved', firstSeen: 900 },
        { exe: '/bin/worker', sha256: [], parents: ['/bin/app'], source: 'learned', firstSeen: 950 },
      ],
    });
    const merged = mergeProfiles([a, b]);
    assert.deepEqual(merged.allow.processes, [
      { exe: '/bin/app', sha256: ['aa', 'bb'], parents: ['/bin/sh', '/sbin/init'], source: 'approved', firstSeen: 500 },
      { exe: '/bin/worker', sha256: [], parents: ['/bin/app'], source: 'learned', firstSeen: 950 },
    ]);
  });

  it('unions egress, listen ports and file writes, letting a learned block or pattern cover single entries', () => {
    const a = profile({}, {
      egress: [
        { address: '10.0.0.7', port: 5432, protocol: 'tcp', source: 'learned', firstSeen: 100 },
        { address: '192.0.2.1', port: 443, protocol: 'tcp', source: 'learned', firstSeen: 300 },
      ],
      listen: [{ port: 8080, protocol: 'tcp', source: 'learned', firstSeen: 400 }],
      fileWrites: [{ pattern: '/var/log/api/app-1.log', source: 'learned', firstSeen: 50 }],
    });
    const b = profile({}, {
      egress: [{ address: '10.0.0.0/24', port: 5432, protocol: 'tcp', source: 'learned', firstSeen: 200 }],
      listen: [
        { port: 8080, protocol: 'tcp', source: 'image', firstSeen: 600 },
        { port: 53, protocol: 'udp', source: 'learned', firstSeen: 700 },
      ],
      fileWrites: [{ pattern: '/var/log/api/*', source: 'learned', firstSeen: 80 }],
    });
    const merged = mergeProfiles([a, b]);
    assert.deepEqual(merged.allow.egress, [
      { address: '10.0.0.0/24', port: 5432, protocol: 'tcp', source: 'learned', firstSeen: 100 },
      { address: '192.0.2.1', port: 443, protocol: 'tcp', source: 'learned', firstSeen: 300 },
    ]);
    assert.deepEqual(merged.allow.listen, [
      { port: 8080, protocol: 'tcp', source: 'image', firstSeen: 400 },
      { port: 53, protocol: 'udp', source: 'learned', firstSeen: 700 },
    ]);
    assert.deepEqual(merged.allow.fileWrites, [{ pattern: '/var/log/api/*', source: 'learned', firstSeen: 50 }]);
  });

  it('keeps syscalls undefined only when no node has syscall data', () => {
    assert.equal(mergeProfiles([profile(), profile()]).allow.syscalls, undefined);
    assert.deepEqual(mergeProfiles([profile(), profile({}, { syscalls: ['read', 'openat'] }), profile({}, { syscalls: ['write', 'read'] })]).allow.syscalls, ['openat', 'read', 'write']);
  });

  it('sums CPU histograms and recomputes the quantile over the sum', () => {
    const quiet = envelope(Array.from({ length: 90 }, () => 0.1));
    const busy = envelope(Array.from({ length: 10 }, () => 1.2));
    const merged = mergeProfiles([profile({}, { cpu: quiet }), profile({}, { cpu: busy })]);
    assert.equal(merged.allow.cpu.samples, 100);
    assert.equal(merged.allow.cpu.histogram.reduce((sum, count) => sum + count, 0), 100);
    // p99 of 90 samples at 0.1 and 10 at 1.2 lies in the busy bucket, which neither node's quantile alone says for the other.
    assert.equal(merged.allow.cpu.quantileCores, quantile({ ...merged.allow.cpu }));
    assert.equal(merged.allow.cpu.quantileCores, 1.25);
    assert.equal(quiet.quantileCores, 0.15);
  });

  it('enforces once any node enforces, learning from the earliest start and the latest news', () => {
    const merged = mergeProfiles([
      profile({ learningStartedAt: 2000, lastNewBehaviourAt: 5000 }),
      profile({ phase: 'enforcing', enforcingSince: 9000, learningStartedAt: 1500, lastNewBehaviourAt: 4000 }),
      profile({ phase: 'enforcing', enforcingSince: 8000, learningStartedAt: 3000, lastNewBehaviourAt: 3000 }),
    ]);
    assert.deepEqual([merged.phase, merged.enforcingSince, merged.learningStartedAt, merged.lastNewBehaviourAt], ['enforcing', 8000, 1500, 5000]);
    const learning = mergeProfiles([profile(), profile()]);
    assert.equal(learning.phase, 'learning');
    assert.equal('enforcingSince' in learning, false);
  });

  it('takes mode, image and selector from the last profile given', () => {
    const merged = mergeProfiles([profile({ mode: 'prevent', image: 'old' }), profile({ mode: 'alert', image: 'new', selector: { app: 'api', tier: 'web' } })]);
    assert.deepEqual([merged.mode, merged.image, merged.selector], ['alert', 'new', { app: 'api', tier: 'web' }]);
  });

  it('is deterministic and idempotent: merging the merge with a part changes nothing but CPU, which adds', () => {
    const a = profile({}, { processes: [{ exe: '/bin/a', sha256: [], parents: [], source: 'learned', firstSeen: 1 }], syscalls: ['read'] });
    const b = profile({}, { processes: [{ exe: '/bin/b', sha256: [], parents: [], source: 'learned', firstSeen: 2 }] });
    const once = mergeProfiles([a, b]);
    assert.equal(JSON.stringify(mergeProfiles([a, b])), JSON.stringify(once));
    const again = mergeProfiles([once, b]);
    assert.deepEqual(again.allow.processes, once.allow.processes);
    assert.deepEqual(again.allow.syscalls, once.allow.syscalls);
  });

  it('refuses profiles of different workloads', () => {
    const other = profile({ id: 'wl-000000000000' });
    assert.throws(() => mergeProfiles([other, profile()]), /cannot merge profile wl-000000000000/);
    assert.throws(() => mergeProfiles([]), /at least one/);
  });

  it('keeps a merged profile within the bounds learning keeps, dropping the newest entries first', () => {
    const many = (offset: number) =>
      Array.from({ length: 400 }, (_, index) => ({ exe: `/bin/p${offset + index}`, sha256: [], parents: [], source: 'learned' as const, firstSeen: offset + index }));
    const merged = mergeAllowances([profile({}, { processes: many(0) }).allow, profile({}, { processes: many(400) }).allow]);
    assert.equal(merged.processes.length, 512);
    assert.equal(merged.processes.at(-1)?.exe, '/bin/p511');
  });
});

describe('CPU envelope arithmetic', () => {
  it('takes one node’s samples back out of a sum exactly', () => {
    const own = envelope([0.1, 0.2, 0.2, 3]);
    const others = envelope([0.5, 0.5, 0.05]);
    const total = sumEnvelopes([own, others]);
    assert.deepEqual(subtractEnvelope(total, own), others);
    assert.deepEqual(subtractEnvelope(total, total).samples, 0);
  });

  it('puts histograms of another bucket size into the first one’s buckets', () => {
    const coarse = { histogram: [0, 0, 4], bucketCores: 0.5, samples: 4, quantileCores: 1.5 };
    const sum = sumEnvelopes([emptyAllowances().cpu, coarse]);
    assert.equal(sum.bucketCores, 0.05);
    assert.equal(sum.histogram[20], 4);
    assert.equal(sum.samples, 4);
  });
});
