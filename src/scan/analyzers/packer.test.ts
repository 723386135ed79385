import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import { loadSignatures } from '../../signatures/load-signatures.ts';
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

let signatures: Signatures;
before(async () => {
  signatures = await loadSignatures();
});

/** The packer's findings, which must not depend on whether its markers are searched directly or in the YARA pass. */
async function rules(bytes: Buffer): Promise<[string, string][]> {
  const searched = (await packer.analyze(fileFromBytes('usr/bin/app', bytes), noSignatures)).map((s): [string, string] => [s.rule, s.strength]);
  const fromYaraPass = (await packer.analyze(fileFromBytes('usr/bin/app', bytes), signatures)).map((s): [string, string] => [s.rule, s.strength]);
  assert.deepEqual(fromYaraPass, searched, 'markers matched in the YARA pass agree with a direct search');
  return searched;
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

  it('reports a program importing memfd_create with fexecve or execveat as a weak trait', async () => {
    assert.deepEqual(await rules(elfWith('\0memfd_create\0fexecve\0')), [['packer.memfd-exec', 'weak']]);
    assert.deepEqual(await rules(elfWith('\0memfd_create\0execveat\0')), [['packer.memfd-exec', 'weak']]);
    assert.deepEqual(await rules(elfWith('\0memfd_create\0execve\0')), []);
  });

  it('reports nothing for an ordinary program', async () => {
    assert.deepEqual(await rules(readFileSync('/usr/bin/ls')), []);
  });
});
