import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { learn } from './learn.ts';
import { approve, createProfile, setMode } from './lifecycle.ts';
import { describeDiff, diffProfiles, isEmptyDiff } from './profile-diff.ts';

const t0 = 1_700_000_000_000;
const entity = { id: 'c1', name: 'web-1', runtime: 'docker' as const, image: 'web:1', imageDigest: 'sha256:' + 'ab'.repeat(32), labels: {} };
const base = { sensor: 'ebpf' as const, entityId: 'c1', pid: 9 };

describe('profile diffs', () => {
  it('shows allowances added and removed, and mode and phase changes', () => {
    let before = createProfile(entity, t0);
    before = learn(before, { ...base, at: t0 + 1, type: 'exec', ppid: 1, uid: 0, exe: '/bin/sh', argv: ['sh'], sha256: 'aa'.repeat(32) }, t0 + 1).profile;
    before = learn(before, { ...base, at: t0 + 2, type: 'connect', protocol: 'tcp', family: 4, address: '10.0.0.7', port: 5432 }, t0 + 2).profile;
    let after = learn(before, { ...base, at: t0 + 3, type: 'exec', ppid: 1, uid: 0, exe: '/bin/wget', argv: ['wget'] }, t0 + 3).profile;
    after = learn(after, { ...base, at: t0 + 4, type: 'exec', ppid: 1, uid: 0, exe: '/bin/sh', argv: ['sh'], sha256: 'bb'.repeat(32) }, t0 + 4).profile;
    after = setMode(approve({ ...after, allow: { ...after.allow, egress: [] } }, t0 + 5), 'prevent');
    const diff = diffProfiles(before, after);
    assert.deepEqual(describeDiff(diff), [
      'mode alert → prevent',
      'phase learning → enforcing',
      '+ exec /bin/wget',
      '+ digest /bin/sh sha256 bbbbbbbbbbbb…',
      '- egress 10.0.0.7:5432/tcp',
    ]);
    assert.equal(isEmptyDiff(diff), false);
    assert.equal(isEmptyDiff(diffProfiles(after, after)), true);
  });
});
