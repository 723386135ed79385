import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { Signatures } from '../../signatures/signatures.ts';
import { entropy } from './entropy.ts';
import { compileC, fileFromBytes, fileFromDisk } from './file-fixture.ts';
import { shannonEntropy } from './shannon-entropy.ts';

const dir = mkdtempSync(join(tmpdir(), 'nomine-entropy-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const noSignatures = {} as Signatures;

describe('entropy', () => {
  it('measures 0 bits for constant data and close to 8 for random data', () => {
    assert.equal(shannonEntropy(Buffer.alloc(1000, 7)), 0);
    assert.ok(shannonEntropy(randomBytes(1 << 20)) > 7.99);
    assert.equal(shannonEntropy(Buffer.from([0, 1, 0, 1])), 1);
  });

  it('reports an ELF without sections whose body is random (packed)', async () => {
    const header = Buffer.from(readFileSync('/usr/bin/ls').subarray(0, 64));
    header.writeBigUInt64LE(0n, 0x28);
    header.writeUInt16LE(0, 0x3c);
    const signals = await entropy.analyze(fileFromBytes('usr/bin/packed', Buffer.concat([header, randomBytes(200_000)])), noSignatures);
    assert.deepEqual(signals.map((s) => [s.rule, s.strength]), [['entropy.high-file', 'weak']]);
  });

  it('names a high-entropy section of a compiled program', async () => {
    const blob = [...randomBytes(65_536)].join(',');
    const path = compileC(dir, 'blob', `const unsigned char blob[] = {${blob}};\nint main(int c, char **v){ return blob[c]; }`);
    const signals = await entropy.analyze(fileFromDisk(path), noSignatures);
    assert.match(signals.find((s) => s.rule === 'entropy.high-section')?.summary ?? '', /\.rodata (?:7\.9\d|8\.00)/);
  });

  it('reports nothing for ordinary programs', async () => {
    assert.deepEqual(await entropy.analyze(fileFromDisk('/usr/bin/ls'), noSignatures), []);
    assert.deepEqual(await entropy.analyze(fileFromDisk('/bin/busybox'), noSignatures), []);
  });
});
