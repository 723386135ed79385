import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RuntimeEvent } from '../agent/event.ts';
import { learn, profileLimits } from './learn.ts';
import { createProfile } from './lifecycle.ts';
import type { PoisoningVerdict } from './poisoning.ts';
import type { Profile } from './profile.ts';

const t0 = 1_700_000_000_000;
const base = { sensor: 'ebpf' as const, entityId: 'c1', pid: 42 };
const entity = { id: 'c1', name: 'web-1', runtime: 'docker' as const, image: 'web:1', imageDigest: 'sha256:' + 'ab'.repeat(32), labels: {} };

function fresh(): Profile {
  return createProfile(entity, t0);
}

function feed(profile: Profile, events: RuntimeEvent[]): { profile: Profile; changes: boolean[] } {
  const changes: boolean[] = [];
  for (const event of events) {
    const result = learn(profile, event, event.at);
    changes.push(result.changed);
    profile = result.profile;
  }
  return { profile, changes };
}

const exec = (at: number, exe: string, sha256?: string, parentExe?: string): RuntimeEvent =>
  ({ ...base, at, type: 'exec', ppid: 1, uid: 0, exe, argv: [exe], ...(sha256 ? { sha256 } : {}), ...(parentExe ? { parentExe } : {}) });
const connect = (at: number, address: string, port: number, family: 4 | 6 = 4): RuntimeEvent => ({ ...base, at, type: 'connect', protocol: 'tcp', family, address, port });
const write = (at: number, path: string): RuntimeEvent => ({ ...base, at, type: 'file-write', path });

describe('learning', () => {
  it('learns executables with their digests and parents, and reports only what is new', () => {
    const { profile, changes } = feed(fresh(), [
      exec(t0 + 1, '/bin/sh', 'aa'),
      exec(t0 + 2, '/bin/wget', 'aa', '/bin/sh'),
      exec(t0 + 3, '/bin/wget', 'aa', '/bin/sh'),
      exec(t0 + 4, '/bin/wget', 'bb', '/bin/sh'),
      exec(t0 + 5, '/bin/wget', 'bb', '/bin/ash'),
    ]);
    assert.deepEqual(changes, [true, true, false, true, true]);
    assert.deepEqual(profile.allow.processes.map((entry) => [entry.exe, entry.sha256, entry.parents]), [
      ['/bin/sh', ['aa'], []],
      ['/bin/wget', ['aa', 'bb'], ['/bin/sh', '/bin/ash']],
    ]);
    assert.equal(profile.lastNewBehaviourAt, t0 + 5);
  });

  it('keeps the quiet period running while nothing new happens', () => {
    const first = learn(fresh(), exec(t0 + 1, '/bin/sh'), t0 + 1).profile;
    const again = learn(first, exec(t0 + 9000, '/bin/sh'), t0 + 9000);
    assert.equal(again.changed, false);
    assert.equal(again.profile, first);
    assert.equal(again.profile.lastNewBehaviourAt, t0 + 1);
  });

  it('generalises many hosts of one /24 on one port into the block', () => {
    const events = [1, 2, 3, 4, 5].map((host) => connect(t0 + host, `10.0.3.${host}`, 5432));
    const { profile } = feed(fresh(), [...events, connect(t0 + 10, '10.0.4.1', 5432), connect(t0 + 11, '10.0.3.1', 6379)]);
    assert.deepEqual(profile.allow.egress.map((entry) => `${entry.address}:${entry.port}`).sort(), ['10.0.3.0/24:5432', '10.0.3.1:6379', '10.0.4.1:5432']);
    const after = learn(profile, connect(t0 + 20, '10.0.3.200', 5432), t0 + 20);
    assert.equal(after.changed, false);
  });

  it('generalises IPv6 hosts into their /64 and treats mapped IPv4 as IPv4', () => {
    const events = [1, 2, 3, 4, 5].map((host) => connect(t0 + host, `2001:db8:0:1::${host}`, 443, 6));
    const { profile } = feed(fresh(), [...events, connect(t0 + 9, '::ffff:10.0.0.1', 53, 6), connect(t0 + 10, '10.0.0.1', 53)]);
    assert.deepEqual(profile.allow.egress.map((entry) => `${entry.address}:${entry.port}`).sort(), ['10.0.0.1:53', '2001:db8:0:1::/64:443']);
  });

  it('learns listening ports from listen, and from accept when the listen was missed', () => {
    const { profile, changes } = feed(fresh(), [
      { ...base, at: t0 + 1, type: 'listen', protocol: 'tcp', family: 4, address: '0.0.0.0', port: 8080 },
      { ...base, at: t0 + 2, type: 'accept', protocol: 'tcp', family: 4, address: '10.0.0.9', port: 51234, localPort: 8080 },
      { ...base, at: t0 + 3, type: 'accept', protocol: 'tcp', family: 4, address: '10.0.0.9', port: 51235, localPort: 9090 },
      { ...base, at: t0 + 4, type: 'accept', protocol: 'tcp', family: 4, address: '10.0.0.9', port: 51236 },
    ]);
    assert.deepEqual(changes, [true, false, true, false]);
    assert.deepEqual(profile.allow.listen.map((entry) => entry.port), [8080, 9090]);
  });

  it('learns write locations as patterns', () => {
    const { profile, changes } = feed(fresh(), [write(t0 + 1, '/tmp/abc123'), write(t0 + 2, '/tmp/xyz789'), write(t0 + 3, '/var/log/nginx/access.log'), write(t0 + 4, '/proc/self/fd/3'), write(t0 + 5, '/proc/self/fd/4')]);
    assert.deepEqual(changes, [true, false, true, true, false]);
    assert.deepEqual(profile.allow.fileWrites.map((entry) => entry.pattern).sort(), ['/proc/self/fd/*', '/tmp/*', '/var/log/nginx/access.log']);
  });

  it('collapses a spool directory once it has many distinct files', () => {
    const names = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india'];
    const { profile } = feed(fresh(), names.map((name, index) => write(t0 + index, `/srv/spool/${name}`)));
    assert.deepEqual(profile.allow.fileWrites.map((entry) => entry.pattern), ['/srv/spool/*']);
  });

  it('takes the union of syscalls and ignores names a sensor should not send', () => {
    const sys = (at: number, counts: Record<string, number>): RuntimeEvent => ({ ...base, at, type: 'syscalls', counts });
    const { profile, changes } = feed(fresh(), [sys(t0 + 1, { read: 3, write: 1 }), sys(t0 + 2, { read: 1, openat: 2, zero: 0 }), sys(t0 + 3, { read: 1, 'bad name;rm': 1 })]);
    assert.deepEqual(changes, [true, true, false]);
    assert.deepEqual(profile.allow.syscalls, ['openat', 'read', 'write']);
  });

  it('refines the CPU envelope without calling ordinary samples new behaviour', () => {
    const cpu = (at: number, cores: number): RuntimeEvent => ({ ...base, at, type: 'cpu-sample', cores, intervalMs: 1000 });
    const { profile, changes } = feed(fresh(), [cpu(t0 + 1, 0.02), cpu(t0 + 2, 0.03), cpu(t0 + 3, 1.5), cpu(t0 + 4, 1.4)]);
    assert.deepEqual(changes, [false, false, true, false]);
    assert.equal(profile.allow.cpu.samples, 4);
    assert.ok(profile.revision > fresh().revision);
  });

  it('never learns behaviour poisoning calls malicious', () => {
    const verdict: PoisoningVerdict = { rule: 'mining-pool', severity: 'critical', summary: 'x', subject: 'x', allowed: 'x' };
    const result = learn(fresh(), connect(t0 + 1, '127.0.0.3', 3333), t0 + 1, verdict);
    assert.equal(result.changed, false);
    assert.deepEqual(result.profile.allow.egress, []);
  });

  it('stops learning once enforcing, except in learn mode', () => {
    const enforcing: Profile = { ...fresh(), phase: 'enforcing' };
    assert.equal(learn(enforcing, exec(t0 + 1, '/bin/new'), t0 + 1).changed, false);
    assert.equal(learn({ ...enforcing, mode: 'learn' }, exec(t0 + 1, '/bin/new'), t0 + 1).changed, true);
  });

  it('stops adding executables at the profile limit', () => {
    let profile = fresh();
    for (let index = 0; index < profileLimits.processes + 5; index++) profile = learn(profile, exec(t0 + index, `/opt/bin/tool-${index}`), t0 + index).profile;
    assert.equal(profile.allow.processes.length, profileLimits.processes);
  });
});
