import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import type { Entity } from './entity.ts';
import type { RawEvent } from './event.ts';
import { createExecGate, executablePathOf, type ExecPolicy } from './exec-gate.ts';

const container: Entity = { id: 'c'.repeat(64), name: 'kv-1', runtime: 'docker', labels: {}, mntns: 4026532001 };
const policy: ExecPolicy = { allowedExes: new Set(['/bin/busybox', '/bin/sh', '/usr/sbin/httpd']) };

function exec(exe: string, pid = 4242, mntns: number | null = container.mntns!): RawEvent {
  return { type: 'exec', at: 1000, sensor: 'ebpf', pid, ppid: 1, uid: 0, exe, argv: [exe], ...(mntns !== null ? { mntns } : {}) };
}

function gateWith(overrides: { policy?: ExecPolicy | undefined; mntnsNow?: number; exe?: string; killFails?: boolean } = {}) {
  const killed: number[] = [];
  const gate = createExecGate({
    entityOfMntns: (mntns) => (mntns === container.mntns ? container : undefined),
    policyOf: () => ('policy' in overrides ? overrides.policy : policy),
    readExe: () => overrides.exe,
    readMntns: () => overrides.mntnsNow ?? container.mntns,
    kill: (pid) => {
      if (overrides.killFails) throw new Error('ESRCH');
      killed.push(pid);
    },
    now: () => 1003,
  });
  return { gate, killed };
}

describe('exec gate', () => {
  it('kills a process whose executable a preventing profile does not hold, and marks the event', () => {
    const { gate, killed } = gateWith();
    const event = exec('/tmp/xmrig');
    gate.inspect(event);
    assert.deepEqual(killed, [4242]);
    assert.equal(event.type === 'exec' && event.killedAtExec, 1003);
    assert.deepEqual(gate.stats(), { inspected: 1, killed: 1, vanished: 0 });
  });

  it('lets an executable the profile holds run', () => {
    const { gate, killed } = gateWith();
    const event = exec('/usr/sbin/httpd');
    gate.inspect(event);
    assert.deepEqual(killed, []);
    assert.equal(event.type === 'exec' && event.killedAtExec, undefined);
  });

  it('does nothing for a workload that does not prevent (learning, alert or stop mode)', () => {
    const { gate, killed } = gateWith({ policy: undefined });
    gate.inspect(exec('/tmp/xmrig'));
    assert.deepEqual(killed, []);
    assert.equal(gate.stats().inspected, 0);
  });

  it('does nothing for the host or an unknown namespace', () => {
    const { gate, killed } = gateWith();
    gate.inspect(exec('/tmp/xmrig', 4242, 999));
    gate.inspect(exec('/tmp/xmrig', 4242, null));
    assert.deepEqual(killed, []);
    const host: Entity = { id: 'host', name: 'host', runtime: 'host', labels: {}, mntns: 4026531840 };
    const killedOnHost: number[] = [];
    const onHost = createExecGate({ entityOfMntns: () => host, policyOf: () => policy, kill: (pid) => void killedOnHost.push(pid) });
    onHost.inspect(exec('/tmp/xmrig', 4242, 4026531840));
    assert.deepEqual(killedOnHost, []);
  });

  it('judges a relative or /proc/self/exe path by the resolved executable, as the judge does', () => {
    const allowed = gateWith({ exe: '/bin/busybox' });
    allowed.gate.inspect(exec('/proc/self/exe'));
    allowed.gate.inspect(exec('./busybox'));
    assert.deepEqual(allowed.killed, []);
    const foreign = gateWith({ exe: '/tmp/.x/miner' });
    foreign.gate.inspect(exec('/dev/fd/3'));
    assert.deepEqual(foreign.killed, [4242]);
  });

  it('spares a pid that has left the namespace by the time it looks (a reused pid is someone else)', () => {
    const { gate, killed } = gateWith({ mntnsNow: 4026531840 });
    gate.inspect(exec('/tmp/xmrig'));
    assert.deepEqual(killed, []);
    assert.equal(gate.stats().vanished, 1);
  });

  it('counts a process already gone instead of throwing into the sensor', () => {
    const { gate } = gateWith({ killFails: true });
    const event = exec('/tmp/xmrig');
    assert.doesNotThrow(() => gate.inspect(event));
    assert.equal(event.type === 'exec' && event.killedAtExec, undefined);
    assert.equal(gate.stats().vanished, 1);
  });

  it('kills a real process through /proc when its namespace matches', async () => {
    const child = spawn('sleep', ['30']);
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    const mntns = Number(/\d+/.exec(readlinkSync(`/proc/${child.pid}/ns/mnt`))![0]);
    const self: Entity = { ...container, mntns };
    const gate = createExecGate({ entityOfMntns: (inode) => (inode === mntns ? self : undefined), policyOf: () => policy });
    gate.inspect(exec('/usr/bin/sleep', child.pid!, mntns));
    assert.equal(await exited, 'SIGKILL');
  });
});

describe('executablePathOf', () => {
  it('keeps an absolute direct path (a symlink name such as /bin/sh is what the profile learned)', () => {
    assert.equal(executablePathOf('/bin/sh', () => '/bin/busybox'), '/bin/sh');
  });
  it('resolves relative, /proc and descriptor paths, and falls back to what was reported', () => {
    assert.equal(executablePathOf('sh', () => '/bin/busybox'), '/bin/busybox');
    assert.equal(executablePathOf('/proc/self/exe', () => '/usr/bin/runc'), '/usr/bin/runc');
    assert.equal(executablePathOf('/dev/fd/4', () => undefined), '/dev/fd/4');
    assert.equal(executablePathOf(undefined, () => undefined), undefined);
  });
});
