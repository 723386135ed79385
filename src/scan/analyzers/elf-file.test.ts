import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { maxElfSections, parseElf } from './elf-file.ts';

const ls = readFileSync('/usr/bin/ls');

describe('ELF parser', () => {
  it('reads a dynamically linked, stripped program', () => {
    const parsed = parseElf(ls);
    assert.ok(parsed.ok);
    assert.equal(parsed.elf.bits, 64);
    assert.equal(parsed.elf.hasInterpreter, true);
    assert.equal(parsed.elf.hasSymbolTable, false);
    assert.ok(parsed.elf.sections.some((s) => s.name === '.text'));
    assert.ok((parsed.elf.importedSymbols ?? 0) > 50);
  });

  it('reads a statically linked program', () => {
    const parsed = parseElf(readFileSync('/bin/busybox'));
    assert.ok(parsed.ok);
    assert.equal(parsed.elf.hasInterpreter, false);
  });

  it('reports every truncation of a real program as malformed or parses it, never throws', () => {
    for (const length of [16, 20, 52, 63, 64, 100, 1000, 4096, ls.length - 1000, ls.length - 1]) {
      const parsed = parseElf(ls.subarray(0, length));
      if (!parsed.ok) assert.equal(parsed.malformed, true, `length ${length}`);
    }
    const cut = parseElf(ls.subarray(0, 1000));
    assert.ok(!cut.ok && /beyond the end/.test(cut.reason));
  });

  it('does not call a prefix malformed when the scanner says the content is truncated', () => {
    const parsed = parseElf(ls.subarray(0, 4096), true);
    assert.ok(parsed.ok);
    assert.equal(parsed.elf.sectionHeadersAvailable, false);
  });

  it('rejects a huge section count without reading it', () => {
    const hostile = Buffer.from(ls);
    hostile.writeUInt16LE(0xfff0, 0x3c); // e_shnum
    const parsed = parseElf(hostile);
    assert.ok(!parsed.ok && parsed.malformed);
    assert.match(parsed.reason, new RegExp(`${0xfff0} sections \\(more than ${maxElfSections}\\)`));
  });

  it('rejects section offsets beyond 2^53 and lying string tables', () => {
    const hostile = Buffer.from(ls);
    hostile.writeBigUInt64LE(0xffffffffffffff00n, 0x28); // e_shoff
    assert.equal(parseElf(hostile).ok, false);
    const names = Buffer.from(ls);
    names.writeUInt16LE(0x7fff, 0x3e); // e_shstrndx past the table: sections without names, no throw
    const parsed = parseElf(names);
    assert.ok(parsed.ok && parsed.elf.sections.every((s) => s.name === ''));
  });

  it('survives random corruption of header and tables', () => {
    for (let round = 0; round < 300; round++) {
      const mutated = Buffer.from(ls.subarray(0, 20_000));
      const noise = randomBytes(16);
      noise.copy(mutated, 16 + (round % 48));
      assert.doesNotThrow(() => parseElf(mutated));
      assert.doesNotThrow(() => parseElf(Buffer.concat([ls.subarray(0, 16), randomBytes(200)])));
    }
  });

  it('says a file without the magic is not ELF rather than malformed', () => {
    const parsed = parseElf(Buffer.from('#!/bin/sh\necho hi\n'));
    assert.ok(!parsed.ok && !parsed.malformed);
  });
});
