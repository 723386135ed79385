import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RuntimeEvent } from '../agent/event.ts';
import { emptyMiningPools, miningPoolsFrom } from './mining-pools.ts';
import { poisoningVerdict } from './poisoning.ts';

const base = { at: 1, sensor: 'ebpf' as const, entityId: 'c1', pid: 42 };
const exec = (exe: string, extra: Partial<RuntimeEvent & { type: 'exec' }> = {}): RuntimeEvent =>
  ({ ...base, type: 'exec', ppid: 1, uid: 0, exe, argv: [exe], sha256: 'ab'.repeat(32), ...extra }) as RuntimeEvent;
const connect = (address: string, port: number): RuntimeEvent => ({ ...base, type: 'connect', protocol: 'tcp', family: 4, address, port });
const pools = miningPoolsFrom([{ path: 'pools.yaml', data: { schemaVersion: 1, kind: 'mining-pools', stratumPorts: [3333, 14444], pools: [{ address: '198.51.100.0/24', name: 'intel-feed' }] } }]);

describe('poisoning verdicts', () => {
  it('flags an executable the scan identifies as a miner, even when it came with the image', () => {
    const verdict = poisoningVerdict(exec('/usr/local/bin/xmrig'), { exeOrigin: 'image', minerVerdict: { rule: 'yara:xmrig', summary: 'XMRig strings' } }, pools);
    assert.equal(verdict?.rule, 'miner-executable');
    assert.equal(verdict?.severity, 'critical');
    assert.match(verdict!.summary, /ran \/usr\/local\/bin\/xmrig, which nomine's scan identifies as a miner: XMRig strings \(yara:xmrig\)/);
  });

  it('flags drift: an executable written after the container started, or run from memory', () => {
    assert.equal(poisoningVerdict(exec('/tmp/payload'), { exeOrigin: 'written' }, pools)?.rule, 'drift');
    assert.match(poisoningVerdict(exec('/tmp/payload'), { exeOrigin: 'written' }, pools)!.summary, /not part of the image/);
    assert.equal(poisoningVerdict(exec('/memfd:x (deleted)', { exeDeleted: true }), {}, pools)?.rule, 'drift');
    assert.equal(poisoningVerdict(exec('/proc/self/fd/3'), { exeOrigin: 'memfd' }, pools)?.rule, 'drift');
  });

  it('flags a process whose executable was deleted', () => {
    const verdict = poisoningVerdict(exec('/usr/bin/kworker', { exeDeleted: true }), { exeOrigin: 'image' }, pools);
    assert.equal(verdict?.rule, 'deleted-executable');
  });

  it('leaves ordinary executables from the image, and unknown origins, to the profile', () => {
    assert.equal(poisoningVerdict(exec('/bin/busybox'), { exeOrigin: 'image' }, pools), undefined);
    assert.equal(poisoningVerdict(exec('/bin/busybox'), { exeOrigin: 'unknown' }, pools), undefined);
    assert.equal(poisoningVerdict(exec('/bin/busybox'), {}, pools), undefined);
  });

  it('flags connections to a known pool network or a stratum port, and says which', () => {
    const byAddress = poisoningVerdict(connect('198.51.100.7', 443), {}, pools);
    assert.equal(byAddress?.rule, 'mining-pool');
    assert.match(byAddress!.summary, /198\.51\.100\.7:443\/tcp, in the known mining pool network 198\.51\.100\.0\/24 \(intel-feed\)/);
    assert.equal(byAddress?.overridable, undefined);
    const byPort = poisoningVerdict(connect('127.0.0.3', 3333), {}, pools);
    assert.equal(byPort?.rule, 'mining-pool');
    assert.equal(byPort?.overridable, true);
    assert.equal(poisoningVerdict(connect('127.0.0.3', 8081), {}, pools), undefined);
    assert.equal(poisoningVerdict(connect('127.0.0.3', 3333), {}, emptyMiningPools()), undefined);
  });

  it('does not judge other kinds of events', () => {
    const listen: RuntimeEvent = { ...base, type: 'listen', protocol: 'tcp', family: 4, address: '0.0.0.0', port: 3333 };
    assert.equal(poisoningVerdict(listen, {}, pools), undefined);
    assert.equal(poisoningVerdict({ ...base, type: 'cpu-sample', cores: 16, intervalMs: 1000 }, {}, pools), undefined);
  });
});
