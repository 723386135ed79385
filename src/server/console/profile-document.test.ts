import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { allowanceView } from './profile-allowances.ts';
import { readProfileDocument } from './profile-document.ts';

const profile = {
  mode: 'alert',
  phase: 'learning',
  learningStartedAt: 1_000,
  allow: {
    processes: [
      { exe: '/bin/a', sha256: ['aa'], parents: [], source: 'learned', firstSeen: 2_000 },
      { exe: '/bin/b', sha256: [], parents: [], source: 'image', firstSeen: 1_500 },
    ],
    egress: [{ address: '10.0.0.1', port: 53, protocol: 'udp', source: 'learned', firstSeen: 3_000 }],
    listen: [],
    fileWrites: [],
    cpu: { histogram: [1], bucketCores: 0.05, samples: 1, quantileCores: 0.05 },
  },
};

describe('reading stored profile documents', () => {
  it('reads a profile, from JSON text or parsed', () => {
    for (const document of [profile, JSON.stringify(profile)]) {
      const reading = readProfileDocument(document, 'profile p');
      assert.deepEqual(reading.problems, []);
      assert.deepEqual(reading.processes.map((entry) => entry.exe), ['/bin/a', '/bin/b']);
      assert.equal(reading.syscalls, undefined, 'no syscall list: the sensor gives none');
    }
  });

  for (const [name, document, problem] of [
    ['text that is not JSON', '{"allow":', /not a JSON object/],
    ['an array', '[1]', /not a JSON object/],
    ['no allow-list', '{"mode":"alert"}', /no allow-list/],
    ['a list that is a string', JSON.stringify({ allow: { processes: 'all' } }), /allow\.processes is not a list/],
    ['entries of the wrong types', JSON.stringify({ allow: { listen: [{ port: 'http' }, { port: 99_999 }, { port: 80 }] } }), /2 malformed entries in allow\.listen skipped/],
    ['syscalls that are not a list', JSON.stringify({ allow: { syscalls: 'read' } }), /allow\.syscalls is not a list/],
  ] as const) {
    it(`names what it skipped in ${name}`, () => {
      const reading = readProfileDocument(document, 'profile p');
      assert.ok(reading.problems.some((text) => problem.test(text)), reading.problems.join('; '));
    });
  }

  it('drops times a date cannot hold and cuts long strings', () => {
    const reading = readProfileDocument({ learningStartedAt: 1e300, allow: { fileWrites: [{ pattern: 'x'.repeat(10_000), source: 'learned', firstSeen: Infinity }] } }, 'p');
    assert.equal(reading.learningStartedAt, undefined);
    assert.equal(reading.fileWrites[0]!.pattern.length, 4_096);
    assert.equal(reading.fileWrites[0]!.firstSeen, undefined);
  });
});

describe('allowances by node', () => {
  it('names the nodes that learned each allowance and orders them by when they were first learned', () => {
    const merged = readProfileDocument(profile, 'merged');
    const nodeA = readProfileDocument({ allow: { processes: [profile.allow.processes[0]], syscalls: ['read'] } }, 'a');
    const nodeB = readProfileDocument({ allow: { processes: profile.allow.processes, egress: profile.allow.egress, syscalls: ['read', 'write'] } }, 'b');
    const view = allowanceView({ ...merged, syscalls: ['write', 'read'] }, [
      { agentId: 'a', nodeName: 'node-a', reading: nodeA },
      { agentId: 'b', nodeName: 'node-b', reading: nodeB },
    ]);
    assert.deepEqual(view.processes.map((entry) => [entry.exe, entry.nodes.map((node) => node.nodeName)]), [
      ['/bin/b', ['node-b']],
      ['/bin/a', ['node-a', 'node-b']],
    ]);
    assert.equal(view.processes[0]!.firstSeen, new Date(1_500).toISOString());
    assert.deepEqual(view.egress[0]!.nodes.map((node) => node.nodeName), ['node-b']);
    assert.deepEqual(view.syscalls!.map((entry) => [entry.name, entry.nodes.length]), [['read', 2], ['write', 1]]);
  });

  it('shows an allowance no node reports any more with no nodes, not as an error', () => {
    const view = allowanceView(readProfileDocument(profile, 'merged'), []);
    assert.deepEqual(view.processes[0]!.nodes, []);
    assert.equal(view.syscalls, null);
  });
});
