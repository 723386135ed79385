import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { loadSignatures } from '../../signatures/load-signatures.ts';
import type { Signatures } from '../../signatures/signatures.ts';
import { decideVerdict } from '../verdict.ts';
import { contentRules } from './content-rules.ts';
import { fileFromBytes, headOf } from './file-fixture.ts';

let signatures: Signatures;
before(async () => {
  signatures = await loadSignatures();
});

const wallet = '44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A';

async function rules(text: string | Buffer, path = 'opt/app/config.json') {
  const file = fileFromBytes(path, Buffer.isBuffer(text) ? text : Buffer.from(text), 0o644);
  return contentRules.analyze(file, signatures);
}

describe('content rules', () => {
  it('reports the stratum URL, pool host, wallet and algorithm of an XMRig config as a malicious combination', async () => {
    const config = JSON.stringify({
      'donate-level': 1,
      pools: [{ url: 'stratum+tcp://pool.minexmr.com:4444', user: wallet, algo: 'rx/0' }],
    });
    const signals = await rules(config);
    const byRule = new Map(signals.map((s) => [s.rule, s]));
    assert.match(byRule.get('keyword.stratum-url')?.summary ?? '', /contains stratum URL "stratum\+tcp:\/\/pool\.minexmr\.com:4444"/);
    assert.equal(byRule.get('keyword.stratum-url')?.strength, 'strong');
    assert.match(byRule.get('keyword.monero-wallet')?.summary ?? '', /Monero wallet address "44AFFq5k/);
    assert.ok(byRule.has('keyword.mining-pool-host'));
    assert.ok(byRule.has('keyword.miner-config-key'));
    assert.equal(byRule.get('keyword.mining-algorithm')?.strength, 'weak');
    assert.equal(byRule.get('keyword.stratum-port')?.strength, 'weak');
    assert.deepEqual(signals[0]?.location, { path: 'opt/app/config.json', layer: 'sha256:test-layer' });
    assert.equal(decideVerdict(signals).verdict, 'malicious');
  });

  it('finds stratum JSON-RPC methods inside binary data', async () => {
    const binary = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 0, 1]), Buffer.from('\0mining.subscribe\0mining.authorize\0')]);
    const signals = await rules(binary, 'usr/bin/x');
    const method = signals.find((s) => s.rule === 'keyword.stratum-method');
    assert.match(method?.summary ?? '', /"mining\.subscribe", "mining\.authorize" at offset 0x8/);
  });

  it('leaves a file with one algorithm name clean, and one strong trait at suspicious', async () => {
    assert.equal(decideVerdict(await rules('supports cryptonight hashing benchmarks')).verdict, 'clean');
    assert.equal(decideVerdict(await rules('#!/bin/sh\nexec app --donate-level 0\n')).verdict, 'suspicious');
  });

  it('does not take identifiers for wallets or algorithm names', async () => {
    const signals = await rules('GetHash SetHashes 1shareProcessNamespacesignature 3AutomountServiceAccountToken cn/resources');
    assert.deepEqual(signals, []);
  });

  it('reads executables and small text files, and skips large text and other binary data', () => {
    const head = (path: string, bytes: Buffer, mode: number, size = bytes.length) =>
      contentRules.wants(headOf({ ...fileFromBytes(path, bytes, mode), entry: { path, type: 'file', size, mode } }));
    assert.equal(head('etc/miner.json', Buffer.from('{}'), 0o644), true);
    assert.equal(head('usr/share/dict/words', Buffer.from('a\nb\n'), 0o644, 50 * 1024 * 1024), false);
    assert.equal(head('usr/lib/libfoo.a', Buffer.from([1, 0, 2, 0]), 0o644), false);
    assert.equal(head('usr/bin/tool', Buffer.from([1, 0, 2, 0]), 0o755), true);
  });
});
