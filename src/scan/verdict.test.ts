import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Signal, SignalStrength } from './signal.ts';
import { decideVerdict } from './verdict.ts';

function signal(rule: string, strength: SignalStrength, analyzer = rule.split('.')[0]!, extra: Partial<Signal> = {}): Signal {
  return { analyzer, rule, strength, summary: `${rule} fired`, ...extra };
}

describe('decideVerdict', () => {
  it('calls a file with no signals clean', () => {
    assert.deepEqual(decideVerdict([]), { verdict: 'clean', severity: 'info', reasons: [] });
  });

  it('calls any conclusive signal malicious and critical, naming it', () => {
    const decision = decideVerdict([signal('elf.static-stripped', 'weak'), signal('hash.known-miner', 'conclusive')]);
    assert.deepEqual(decision, { verdict: 'malicious', severity: 'critical', reasons: ['hash.known-miner: hash.known-miner fired'] });
  });

  it('calls a single strong rule suspicious, even when it fires many times', () => {
    const decision = decideVerdict([signal('keyword.stratum-url', 'strong'), signal('keyword.stratum-url', 'strong')]);
    assert.equal(decision.verdict, 'suspicious');
    assert.equal(decision.severity, 'medium');
    assert.equal(decision.reasons.length, 1);
  });

  it('calls strong signals from two different rules malicious and high', () => {
    const decision = decideVerdict([signal('keyword.stratum-url', 'strong'), signal('keyword.monero-wallet', 'strong')]);
    assert.equal(decision.verdict, 'malicious');
    assert.equal(decision.severity, 'high');
  });

  it('calls one strong signal in a packed file malicious', () => {
    const decision = decideVerdict([signal('keyword.stratum-url', 'strong', 'content-rules'), signal('packer.upx', 'weak', 'packer')]);
    assert.equal(decision.verdict, 'malicious');
    assert.deepEqual(decision.reasons, ['keyword.stratum-url: keyword.stratum-url fired', 'packer.upx: packer.upx fired']);
  });

  it('does not count a strong packer signal twice', () => {
    assert.equal(decideVerdict([signal('packer.upx-tampered', 'strong', 'packer')]).verdict, 'suspicious');
  });

  it('needs weak signals from three different analyzers for suspicious', () => {
    const elf = [signal('elf.static-stripped', 'weak', 'elf'), signal('elf.few-imports', 'weak', 'elf'), signal('elf.malformed', 'weak', 'elf')];
    assert.equal(decideVerdict(elf).verdict, 'clean', 'three ELF traits are one kind of evidence');
    const mixed = [signal('elf.static-stripped', 'weak', 'elf'), signal('packer.upx', 'weak', 'packer'), signal('entropy.high-file', 'weak', 'entropy')];
    assert.deepEqual(decideVerdict(mixed).verdict, 'suspicious');
    assert.deepEqual(decideVerdict(mixed).severity, 'low');
  });

  it('lets a severity declared by a rule raise the verdict severity but never lower it', () => {
    assert.equal(decideVerdict([signal('yara.x', 'strong', 'yara', { severity: 'critical' })]).severity, 'critical');
    assert.equal(decideVerdict([signal('yara.x', 'conclusive', 'yara', { severity: 'low' })]).severity, 'critical');
    assert.equal(decideVerdict([signal('yara.x', 'weak', 'yara', { severity: 'critical' })]).verdict, 'clean');
  });
});
