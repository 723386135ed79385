import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { Signatures } from '../../signatures/signatures.ts';
import { elfProperties } from './elf-properties.ts';
import { compileC, fileFromBytes, fileFromDisk, headOf } from './file-fixture.ts';

const dir = mkdtempSync(join(tmpdir(), 'nomine-elf-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const noSignatures = {} as Signatures; // the ELF analyzer reads no signatures

describe('ELF properties', () => {
  it('reports a statically linked, stripped executable as one weak trait', async () => {
    const binary = fileFromDisk(compileC(dir, 'static', 'int main(void){return 0;}', ['-static', '-s']));
    const signals = await elfProperties.analyze(binary, noSignatures);
    assert.deepEqual(signals.map((s) => [s.rule, s.strength]), [['elf.static-stripped', 'weak']]);
  });

  it('reports a dynamic program that imports almost nothing', async () => {
    const binary = fileFromDisk(compileC(dir, 'tiny', 'int main(void){return 0;}', ['-s']));
    const signals = await elfProperties.analyze(binary, noSignatures);
    assert.match(signals.find((s) => s.rule === 'elf.few-imports')?.summary ?? '', /importing only \d symbols/);
  });

  it('reports nothing for an ordinary dynamic program', async () => {
    assert.deepEqual(await elfProperties.analyze(fileFromDisk('/usr/bin/ls'), noSignatures), []);
  });

  it('turns a truncated ELF into a weak "malformed ELF" signal instead of an error', async () => {
    const cut = fileFromBytes('usr/bin/cut', readFileSync('/usr/bin/ls').subarray(0, 3000));
    const signals = await elfProperties.analyze(cut, noSignatures);
    assert.equal(signals[0]?.rule, 'elf.malformed');
    assert.equal(signals[0]?.strength, 'weak');
    assert.match(signals[0]?.summary ?? '', /^malformed ELF: /);
  });

  it('reports headers without sections (sstrip, packers)', async () => {
    const bytes = Buffer.from(readFileSync('/usr/bin/ls'));
    bytes.writeBigUInt64LE(0n, 0x28); // e_shoff
    bytes.writeUInt16LE(0, 0x3c); // e_shnum
    const signals = await elfProperties.analyze(fileFromBytes('x', bytes), noSignatures);
    assert.ok(signals.some((s) => s.rule === 'elf.no-section-headers'));
  });

  it('wants ELF files only', () => {
    assert.equal(elfProperties.wants(headOf(fileFromBytes('a.sh', Buffer.from('#!/bin/sh\n')))), false);
    assert.equal(elfProperties.wants(headOf(fileFromDisk('/usr/bin/ls'))), true);
  });
});
