import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { isNomineError } from '../core/errors.ts';
import { decideWaiver, parseWaivers } from './waivers.ts';

const now = Date.parse('2026-06-01T12:00:00Z');

describe('waivers', () => {
  const waivers = parseWaivers(
    `waivers:
  - { check: docker.container.privileged, entity: 'ci-runner-*', reason: runs docker-in-docker builds, expires: 2026-12-31 }
  - { check: 'docker.daemon.*', reason: lab host }
  - { check: docker.container.memory-limit, entity: legacy, reason: old, expires: 2026-01-01 }
`,
    'waivers.yaml',
  );

  it('waives a matching check and entity glob until its expiry', () => {
    assert.deepEqual(decideWaiver(waivers, 'docker.container.privileged', 'ci-runner-7', now), { waived: true, reason: 'runs docker-in-docker builds', expires: '2026-12-31' });
    assert.equal(decideWaiver(waivers, 'docker.container.privileged', 'web', now).waived, false);
    assert.equal(decideWaiver(waivers, 'docker.container.privileged', 'ci-runner-7', Date.parse('2027-01-01T00:00:01Z')).waived, false);
  });

  it('matches a check prefix for every entity when entity is absent', () => {
    assert.equal(decideWaiver(waivers, 'docker.daemon.icc', 'dockerd unix:///var/run/docker.sock', now).waived, true);
  });

  it('reports an expired waiver instead of silently ignoring it', () => {
    assert.deepEqual(decideWaiver(waivers, 'docker.container.memory-limit', 'legacy', now), { waived: false, expired: { reason: 'old', expires: '2026-01-01' } });
  });

  it('rejects a waiver without a reason, naming the file', () => {
    assert.throws(() => parseWaivers('waivers: [{ check: x }]', 'w.yaml'), (error: unknown) => isNomineError(error) && error.part === 'w.yaml' && /reason/.test(error.message));
  });
});
