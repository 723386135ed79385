import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadSignatures } from '../../signatures/load-signatures.ts';
import type { Signatures } from '../../signatures/signatures.ts';
import { decideVerdict } from '../verdict.ts';
import { analyzeWithAll, compileC, fileFromBytes, fileFromDisk, minerLikeSource } from './file-fixture.ts';
import { yaraRules } from './yara-rules.ts';

let signatures: Signatures;
const dir = mkdtempSync(join(tmpdir(), 'nomine-yara-'));
before(async () => {
  signatures = await loadSignatures();
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('YARA rules', () => {
  it('identifies a compiled program carrying XMRig usage text as conclusive, with the rule meta', async () => {
    const binary = fileFromDisk(compileC(dir, 'miner', minerLikeSource));
    const signals = await yaraRules.analyze(binary, signatures);
    const xmrig = signals.find((s) => s.rule === 'yara.xmrig_miner');
    assert.equal(xmrig?.strength, 'conclusive');
    assert.equal(xmrig?.severity, 'critical');
    assert.match(xmrig?.summary ?? '', /^XMRig Monero miner .*rule xmrig_miner in rules\/cpu-miners\.yar/);
    const verdict = decideVerdict(await analyzeWithAll(binary, signatures));
    assert.equal(verdict.verdict, 'malicious');
    assert.equal(verdict.severity, 'critical');
  });

  it('finds the same miner statically linked and stripped', async () => {
    const binary = fileFromDisk(compileC(dir, 'miner-static', minerLikeSource, ['-static', '-s']));
    const rules = (await analyzeWithAll(binary, signatures)).map((s) => s.rule);
    assert.ok(rules.includes('yara.xmrig_miner'));
    assert.ok(rules.includes('elf.static-stripped'));
  });

  it('identifies a CoinHive-style browser miner script', async () => {
    const script = fileFromBytes('srv/www/js/app.js', Buffer.from('var miner = new CoinHive.Anonymous("SITE_KEY", {throttle: 0.3}); miner.start();'), 0o644);
    const signals = await yaraRules.analyze(script, signatures);
    assert.equal(signals[0]?.rule, 'yara.web_miner_script');
    assert.equal(signals[0]?.strength, 'conclusive');
  });

  it('identifies a WebAssembly module exporting a CryptoNight hash', async () => {
    const wasm = Buffer.concat([Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]), Buffer.from('\x07\x14\x02\x11_cryptonight_hash\0')]);
    const signals = await yaraRules.analyze(fileFromBytes('srv/www/cn.wasm', wasm, 0o644), signatures);
    assert.equal(signals[0]?.rule, 'yara.wasm_cryptonight_miner');
  });

  it('does not match benign system programs', async () => {
    for (const path of ['/usr/bin/ls', '/bin/busybox', '/usr/bin/curl']) {
      assert.deepEqual(await yaraRules.analyze(fileFromDisk(path), signatures), [], path);
    }
  });
});
