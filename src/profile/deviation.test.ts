import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RuntimeEvent } from '../agent/event.ts';
import { alertRules } from '../alerts/alert.ts';
import { describeEvent, formatEndpoint, ruleSeverity, summariseList } from './deviation.ts';

const base = { at: 1, sensor: 'ebpf' as const, entityId: 'c1', pid: 4242 };

describe('deviation wording', () => {
  it('lists a few allowances and counts the rest', () => {
    assert.equal(summariseList([], 'executable'), 'no executables');
    assert.equal(summariseList(['/bin/sh'], 'executable', { qualifier: 'learned' }), '1 executable learned: /bin/sh');
    const many = Array.from({ length: 12 }, (_, index) => `/bin/tool${index}`);
    assert.equal(summariseList(many, 'executable'), '12 executables: /bin/tool0, /bin/tool1, /bin/tool2, /bin/tool3, /bin/tool4, … (+7 more)');
  });

  it('describes what was seen in one line', () => {
    const exec: RuntimeEvent = { ...base, type: 'exec', ppid: 1, uid: 0, exe: '/tmp/xmrig', argv: ['/tmp/xmrig', '-o', 'pool:3333'], sha256: 'ab12'.repeat(16), parentExe: '/bin/sh' };
    assert.equal(describeEvent(exec), 'exec /tmp/xmrig -o pool:3333 (sha256 ab12ab12ab12…) by /bin/sh, pid 4242');
    const unhashed: RuntimeEvent = { ...base, type: 'exec', ppid: 1, uid: 0, exe: '/tmp/x', argv: ['/tmp/x', 'y'.repeat(500)], hashError: 'exited too soon', exeDeleted: true };
    const line = describeEvent(unhashed);
    assert.ok(line.length < 220, 'long argv is cut');
    assert.match(line, /\(not hashed: exited too soon\), pid 4242, executable deleted$/);
    assert.equal(describeEvent({ ...base, type: 'connect', comm: 'xmrig', protocol: 'tcp', family: 6, address: '2001:db8::1', port: 3333 }),
      'connect to [2001:db8::1]:3333/tcp, pid 4242 (xmrig)');
    assert.equal(describeEvent({ ...base, type: 'syscalls', counts: { ptrace: 1, bpf: 2 } }), 'syscalls bpf, ptrace');
    assert.equal(formatEndpoint('10.0.0.1', 80, 'udp'), '10.0.0.1:80/udp');
  });

  it('grades every alert rule, mining above mere novelty', () => {
    for (const rule of alertRules) assert.ok(ruleSeverity[rule], rule);
    assert.equal(ruleSeverity['mining-pool'], 'critical');
    assert.equal(ruleSeverity['egress-not-allowed'], 'medium');
  });
});
