import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { Signatures } from '../../signatures/signatures.ts';
import { fileFromBytes } from './file-fixture.ts';
import { packer } from './packer.ts';

const noSignatures = {} as Signatures;
const elfHeader = readFileSync('/usr/bin/ls').subarray(0, 64);
const info = '$Info: This file is packed with the UPX executable packer http://upx.sf.net $\0$Id: UPX 4.02 Copyright (C) 1996-2023 the UPX Team. All Rights Reserved. $';

function elfWith(...parts: string[]): Buffer {
  // A header without section or program tables, as UPX leaves it, followed by the packer's strings.
  const header = Buffer.from(elfHeader);
  header.writeBigUInt64LE(0n, 0x20); // e_phoff
  header.writeBigUInt64LE(0n, 0x28); // e_shoff
  header.writeUInt16LE(0, 0x38); // e_phnum
  header.writeUInt16LE(0, 0x3c); // e_shnum
  return Buffer.concat([header, Buffer.alloc(64), ...parts.map((p) => Buffer.from(p, 'latin1'))]);
}

async function rules(bytes: Buffer): Promise<[string, string][]> {
  return (await packer.analyze(fileFromBytes('usr/bin/app', bytes), noSignatures)).map((s) => [s.rule, s.strength]);
}

describe('packer markers', () => {
  it('reports a UPX-packed ELF as a weak trait', async () => {
    assert.deepEqual(await rules(elfWith('UPX!\x0d\x0c', info)), [['packer.upx', 'weak']]);
    assert.deepEqual(await rules(elfWith('\0\0UPX!')), [['packer.upx', 'weak']]);
  });

  it('reports UPX strings with the UPX! magic removed as deliberate tampering (strong)', async () => {
    assert.deepEqual(await rules(elfWith('ABC!\x0d\x0c', info)), [['packer.upx-tampered', 'strong']]);
  });

  it('reports the Ezuri crypter stub as strong', async () => {
    assert.deepEqual(await rules(elfWith('main.runFromMemory\0main.aesDec\0')), [['packer.ezuri', 'strong']]);
  });

  it('reports nothing for an ordinary program', async () => {
    assert.deepEqual(await rules(readFileSync('/usr/bin/ls')), []);
  });
});
