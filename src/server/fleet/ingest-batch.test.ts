import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { emptyAllowances } from '../../profile/profile.ts';
import { profileIdFor } from '../../profile/workload-key.ts';
import { agentBatch, type AgentBatch } from '../schemas/agent-schemas.ts';
import { NomineError } from '../../core/errors.ts';
import { prepareBatch } from './ingest-batch.ts';

/** The refusal as a client reads it: `part: message`. */
function refusal(pattern: RegExp) {
  return (error: unknown) => error instanceof NomineError && error.code === 'invalid-input' && pattern.test(error.describe());
}

function parsed(body: Record<string, unknown>): AgentBatch {
  return agentBatch.parse({ batchId: 'b', sentAt: 1, ...body });
}

const alert = (id: string, count: number, lastAt: number) => ({
  id,
  dedupeKey: 'k',
  rule: 'drift',
  severity: 'high',
  message: 'm',
  entity: { id: 'e', name: 'n' },
  workload: 'w',
  seen: 's',
  allowed: 'a',
  mode: 'alert',
  phase: 'enforcing',
  action: { taken: 'none', reason: 'r' },
  firstAt: 1,
  lastAt,
  count,
});

describe('batch validation', () => {
  it('digests the content, not the moment it was sent nor the order of keys', () => {
    const one = prepareBatch(parsed({ alerts: [alert('a', 1, 5)] }));
    const later = prepareBatch({ ...parsed({ alerts: [alert('a', 1, 5)] }), sentAt: 99 });
    const reordered = prepareBatch(agentBatch.parse({ alerts: [Object.fromEntries(Object.entries(alert('a', 1, 5)).reverse())], sentAt: 1, batchId: 'b' }));
    assert.equal(later.digest, one.digest);
    assert.equal(reordered.digest, one.digest);
    assert.notEqual(prepareBatch(parsed({ alerts: [alert('a', 2, 5)] })).digest, one.digest);
  });

  it('keeps one snapshot per alert, entity, window and profile: the newest', () => {
    const prepared = prepareBatch(
      parsed({
        alerts: [alert('a', 2, 5), alert('a', 9, 7), alert('a', 3, 9), alert('b', 1, 1)],
        eventSummaries: [
          { entityId: 'e', windowStart: 0, windowEnd: 30, counts: { exec: 5 } },
          { entityId: 'e', windowStart: 0, windowEnd: 10, counts: { exec: 1 } },
        ],
      }),
    );
    assert.deepEqual(prepared.alerts.map((a) => [a.id, a.count]), [['a', 9], ['b', 1]]);
    assert.deepEqual(prepared.summaries.map((s) => s.counts), [{ exec: 5 }]);
  });

  it('refuses oversized arrays, wrong types, huge strings and unknown fields before anything is stored', () => {
    const refusals: Array<[string, Record<string, unknown>]> = [
      ['5,001 alerts', { alerts: Array.from({ length: 5001 }, (_, i) => alert(String(i), 1, 1)) }],
      ['a count as a string', { alerts: [{ ...alert('a', 1, 1), count: '1' }] }],
      ['a fractional count', { alerts: [{ ...alert('a', 1, 1), count: 1.5 }] }],
      ['a huge dedupe key', { alerts: [{ ...alert('a', 1, 1), dedupeKey: 'k'.repeat(2000) }] }],
      ['an unknown field in an alert', { alerts: [{ ...alert('a', 1, 1), extra: 1 }] }],
      ['an entity of an unknown kind', { entities: [{ id: 'e', kind: 'vm', name: 'n', document: {} }] }],
      ['a time beyond the year 275760', { alerts: [{ ...alert('a', 1, 1), lastAt: 9e15 }] }],
      ['event summaries that are not a list', { eventSummaries: 'none' }],
      ['a profile revision below zero', { profiles: [{ id: 'wl-1', revision: -1, document: {} }] }],
    ];
    for (const [what, body] of refusals) assert.equal(agentBatch.safeParse({ batchId: 'b', sentAt: 1, ...body }).success, false, what);
  });

  it('checks profile documents and nested sizes, naming the item', () => {
    const key = { imageDigest: 'sha256:ab', workload: 'container:web' };
    const document = { id: profileIdFor(key), key, mode: 'alert', phase: 'learning', learningStartedAt: 1, lastNewBehaviourAt: 1, selector: {}, allow: emptyAllowances(), revision: 1 };
    assert.equal(prepareBatch(parsed({ profiles: [{ id: document.id, revision: 1, document }] })).profiles.length, 1);
    assert.throws(() => prepareBatch(parsed({ profiles: [{ id: document.id, revision: 1, document: { ...document, mode: 'destroy' } }] })), refusal(/body\.profiles\.0\.document: mode/));
    const tooManyExecutables = { ...document, allow: { ...emptyAllowances(), processes: Array.from({ length: 513 }, (_, i) => ({ exe: `/bin/${i}`, sha256: [], parents: [], source: 'learned', firstSeen: 1 })) } };
    assert.throws(() => prepareBatch(parsed({ profiles: [{ id: document.id, revision: 1, document: tooManyExecutables }] })), refusal(/body\.profiles\.0\.document: allow\.processes/));
    assert.throws(() => prepareBatch(parsed({ status: { blob: 'x'.repeat(70_000) } })), refusal(/body\.status: larger than 65536 bytes/));
    // Fields a newer agent adds to the profile document are dropped, not stored.
    const prepared = prepareBatch(parsed({ profiles: [{ id: document.id, revision: 1, document: { ...document, futureField: 'x'.repeat(10) } }] }));
    assert.equal('futureField' in prepared.profiles[0]!.profile, false);
  });
});
