import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { normaliseTlsh, tlshDistance, tlshHash } from './tlsh.ts';

function cliHash(path: string): string {
  return execFileSync('tlsh', ['-f', path], { encoding: 'utf8' }).split('\t')[0]!.trim();
}

describe('TLSH', () => {
  for (const path of ['/usr/bin/ls', '/usr/bin/cat', '/etc/services']) {
    it(`computes the same digest as Debian's tlsh for ${path}`, () => {
      assert.equal(tlshHash(readFileSync(path)), cliHash(path));
    });
  }

  it("measures the same distance as Debian's tlsh -c … -d …", () => {
    const a = tlshHash(readFileSync('/usr/bin/ls'))!;
    const b = tlshHash(readFileSync('/usr/bin/cat'))!;
    const out = execFileSync('tlsh', ['-c', a, '-d', b], { encoding: 'utf8' });
    const expected = Number(out.trim().split(/\s+/)[0]); // `distance<TAB>digest`
    assert.equal(tlshDistance(a, b), expected);
  });

  it('has no digest for short or uniform input', () => {
    assert.equal(tlshHash(Buffer.from('short')), undefined);
    assert.equal(tlshHash(Buffer.alloc(4096)), undefined);
  });

  it('accepts published digests with the T1 prefix and in lower case', () => {
    const digest = tlshHash(readFileSync('/usr/bin/ls'))!;
    assert.equal(normaliseTlsh(`t1${digest.toLowerCase()}`), digest);
    assert.equal(normaliseTlsh('T1XYZ'), undefined);
  });
});
