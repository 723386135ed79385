import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseSsdeep, ssdeepCompare, ssdeepHash } from './ssdeep.ts';

const dir = mkdtempSync(join(tmpdir(), 'nomine-ssdeep-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function cliHash(path: string): string {
  // ssdeep -s -b prints a header line, then `digest,"name"`.
  const line = execFileSync('ssdeep', ['-s', '-b', path], { encoding: 'utf8' }).split('\n')[1] ?? '';
  return line.slice(0, line.lastIndexOf(',"'));
}

function cliScore(a: string, b: string): number {
  const out = execFileSync('ssdeep', ['-s', '-b', '-a', '-d', a, b], { encoding: 'utf8' });
  const match = /\((\d+)\)/.exec(out);
  return match ? Number(match[1]) : 0;
}

describe('ssdeep port', () => {
  const samples: [string, Buffer][] = [
    ['ls', readFileSync('/usr/bin/ls')],
    ['busybox', readFileSync('/bin/busybox')],
    ['passwd', readFileSync('/etc/passwd')],
    ['random-100', randomBytes(100)],
    ['random-70000', randomBytes(70_000)],
    ['zeros', Buffer.alloc(10_000)],
    ['text', Buffer.from('stratum+tcp://pool.example:3333 '.repeat(500))],
  ];
  for (const [name, bytes] of samples) {
    it(`computes the same digest as the ssdeep command for ${name}`, () => {
      const path = join(dir, name);
      writeFileSync(path, bytes);
      assert.equal(ssdeepHash(bytes), cliHash(path));
    });
  }

  it('scores a modified copy like ssdeep -d does', () => {
    const original = readFileSync('/usr/bin/ls');
    const variant = Buffer.concat([original, original.subarray(0, 30_000)]);
    variant.write('X'.repeat(64), 50_000, 'latin1');
    const a = join(dir, 'a');
    const b = join(dir, 'b');
    copyFileSync('/usr/bin/ls', a);
    writeFileSync(b, variant);
    const expected = cliScore(a, b);
    assert.ok(expected > 50, `the CLI sees them as similar (${expected})`);
    assert.equal(ssdeepCompare(ssdeepHash(original), ssdeepHash(variant)), expected);
  });

  it('scores unrelated files 0 and identical digests 100', () => {
    const ls = ssdeepHash(readFileSync('/usr/bin/ls'));
    assert.equal(ssdeepCompare(ls, ls), 100);
    assert.equal(ssdeepCompare(ls, ssdeepHash(randomBytes(150_000))), 0);
  });

  it('rejects text that is not a digest instead of throwing', () => {
    assert.equal(parseSsdeep('not a digest'), undefined);
    assert.equal(parseSsdeep('7:abc:def'), undefined, 'block sizes are multiples of 3');
    assert.equal(ssdeepCompare('garbage', '3:abc:def'), 0);
  });
});
