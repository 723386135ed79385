/**
 * ELF file structure: a small, defensive reader of the header, program headers, section headers and dynamic symbol
 * table. Input is hostile (truncated, lying counts, offsets past the end); every read is bounds-checked and the
 * parser returns a reason instead of throwing. When the content is only a prefix of the file (`truncated`),
 * structures beyond it are reported as unavailable, not as malformed.
 */
import type { FileContent } from '../layer-entry.ts';

export interface ElfSection {
  name: string;
  type: number;
  flags: number;
  offset: number;
  size: number;
}

export interface ElfInfo {
  bits: 32 | 64;
  littleEndian: boolean;
  /** e_type: 2 executable, 3 shared object or PIE. */
  type: number;
  machine: number;
  /** PT_INTERP present: the dynamic loader starts it, so it imports from shared libraries. */
  hasInterpreter: boolean;
  hasDynamicSegment: boolean;
  /** Section headers as declared; empty when the file has none (e_shoff or e_shnum 0) or they lie beyond a truncated prefix. */
  sections: ElfSection[];
  /** False when the section headers lie beyond the analyzed prefix, so `sections` says nothing. */
  sectionHeadersAvailable: boolean;
  /** SHT_SYMTAB present: not stripped. */
  hasSymbolTable: boolean;
  /** Undefined symbols in .dynsym (imports), when the section is readable. */
  importedSymbols?: number;
  /**
   * Where the ELF image ends: the furthest of the section contents and the section header table. Bytes past it
   * (an overlay) are not loaded by the kernel; droppers and packers append their payload there.
   */
  imageEnd?: number;
}

/** `malformed` is false when the bytes are simply not ELF, or the problem lies beyond a truncated prefix. */
export type ElfParseResult = { ok: true; elf: ElfInfo } | { ok: false; malformed: boolean; reason: string };

export const SHT_PROGBITS = 1;
export const SHT_SYMTAB = 2;
export const SHT_NOBITS = 8;
export const SHT_DYNSYM = 11;
export const SHF_COMPRESSED = 0x800;
const PT_DYNAMIC = 2;
const PT_INTERP = 3;

/** More than this many sections or program headers is hostile, not a real program. */
export const maxElfSections = 4096;
const maxProgramHeaders = 1024;
/** .dynsym entries counted at most: real programs import thousands, not millions. */
const maxDynamicSymbols = 1_000_000;

class Malformed extends Error {}
class BeyondPrefix extends Error {}

class Reader {
  constructor(
    readonly bytes: Uint8Array,
    readonly view: DataView,
    readonly little: boolean,
    readonly wide: boolean,
    readonly truncated: boolean,
  ) {}

  private check(offset: number, size: number, what: string): void {
    if (!Number.isSafeInteger(offset) || offset < 0 || offset + size > this.bytes.length) {
      if (this.truncated) throw new BeyondPrefix(what);
      throw new Malformed(`${what} at offset ${offset} lies beyond the end of the file (${this.bytes.length} bytes)`);
    }
  }
  u8(offset: number, what: string): number {
    this.check(offset, 1, what);
    return this.view.getUint8(offset);
  }
  u16(offset: number, what: string): number {
    this.check(offset, 2, what);
    return this.view.getUint16(offset, this.little);
  }
  u32(offset: number, what: string): number {
    this.check(offset, 4, what);
    return this.view.getUint32(offset, this.little);
  }
  /** Address-sized field: 4 bytes in ELF32, 8 in ELF64; values beyond 2^53 are nonsense for a file offset. */
  addr(offset: number, what: string): number {
    if (!this.wide) return this.u32(offset, what);
    this.check(offset, 8, what);
    const value = this.view.getBigUint64(offset, this.little);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new Malformed(`${what} is out of range`);
    return Number(value);
  }
  cString(offset: number, limit: number): string {
    let end = offset;
    const stop = Math.min(this.bytes.length, offset + limit);
    while (end < stop && this.bytes[end] !== 0) end++;
    return Buffer.from(this.bytes.buffer, this.bytes.byteOffset + offset, end - offset).toString('latin1');
  }
}

function readSections(r: Reader, shoff: number, shentsize: number, shnum: number, shstrndx: number): ElfSection[] {
  const minimum = r.wide ? 64 : 40;
  if (shentsize < minimum) throw new Malformed(`section header size ${shentsize} is smaller than ${minimum}`);
  const raw: (Omit<ElfSection, 'name'> & { nameOffset: number })[] = [];
  for (let i = 0; i < shnum; i++) {
    const at = shoff + i * shentsize;
    raw.push({
      nameOffset: r.u32(at, 'section header'),
      type: r.u32(at + 4, 'section header'),
      // sh_flags is 8 bytes in ELF64; the flags nomine reads live in its low half.
      flags: r.u32(r.wide && !r.little ? at + 12 : at + 8, 'section header'),
      offset: r.addr(r.wide ? at + 24 : at + 16, 'section offset'),
      size: r.addr(r.wide ? at + 32 : at + 20, 'section size'),
    });
  }
  const names = shstrndx < raw.length ? raw[shstrndx] : undefined;
  return raw.map(({ nameOffset, ...section }) => {
    let name = '';
    if (names && names.type !== SHT_NOBITS && nameOffset < names.size) {
      const at = names.offset + nameOffset;
      if (at < r.bytes.length) name = r.cString(at, Math.min(256, names.size - nameOffset));
    }
    return { name, ...section };
  });
}

function countImports(r: Reader, dynsym: ElfSection): number | undefined {
  const entsize = r.wide ? 24 : 16;
  const count = Math.min(Math.floor(dynsym.size / entsize), maxDynamicSymbols);
  if (dynsym.offset + count * entsize > r.bytes.length) {
    if (r.truncated) return undefined;
    throw new Malformed(`.dynsym (${dynsym.size} bytes at ${dynsym.offset}) lies beyond the end of the file`);
  }
  let imports = 0;
  // Entry 0 is the reserved null symbol; st_shndx 0 (SHN_UNDEF) with a name means the symbol is imported.
  for (let i = 1; i < count; i++) {
    const at = dynsym.offset + i * entsize;
    const shndx = r.u16(r.wide ? at + 6 : at + 14, 'symbol');
    const name = r.u32(at, 'symbol');
    if (shndx === 0 && name !== 0) imports++;
  }
  return imports;
}

export function parseElf(bytes: Uint8Array, truncated = false): ElfParseResult {
  try {
    if (bytes.length < 16 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) {
      return { ok: false, malformed: false, reason: 'no ELF magic' };
    }
    const cls = bytes[4];
    const data = bytes[5];
    if (cls !== 1 && cls !== 2) return { ok: false, malformed: true, reason: `unknown ELF class ${cls}` };
    if (data !== 1 && data !== 2) return { ok: false, malformed: true, reason: `unknown ELF data encoding ${data}` };
    const wide = cls === 2;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const r = new Reader(bytes, view, data === 1, wide, truncated);
    if (bytes.length < (wide ? 64 : 52)) throw new Malformed(`ELF header needs ${wide ? 64 : 52} bytes, file has ${bytes.length}`);

    const type = r.u16(16, 'e_type');
    const machine = r.u16(18, 'e_machine');
    const phoff = r.addr(wide ? 32 : 28, 'e_phoff');
    const shoff = r.addr(wide ? 40 : 32, 'e_shoff');
    const o = wide ? 52 : 40; // e_ehsize onwards
    const phentsize = r.u16(o + 2, 'e_phentsize');
    const phnum = r.u16(o + 4, 'e_phnum');
    const shentsize = r.u16(o + 6, 'e_shentsize');
    let shnum = r.u16(o + 8, 'e_shnum');
    let shstrndx = r.u16(o + 10, 'e_shstrndx');

    if (phnum > maxProgramHeaders) throw new Malformed(`${phnum} program headers`);
    let hasInterpreter = false;
    let hasDynamicSegment = false;
    if (phnum > 0) {
      if (phentsize < (wide ? 56 : 32)) throw new Malformed(`program header size ${phentsize} is too small`);
      for (let i = 0; i < phnum; i++) {
        const pType = r.u32(phoff + i * phentsize, 'program header');
        if (pType === PT_INTERP) hasInterpreter = true;
        if (pType === PT_DYNAMIC) hasDynamicSegment = true;
      }
    }

    let sections: ElfSection[] = [];
    let sectionHeadersAvailable = true; // e_shoff 0: known to have none
    if (shoff !== 0) {
      try {
        // Extended numbering: e_shnum 0 and SHN_XINDEX put the real values in section 0.
        if (shnum === 0 || shstrndx === 0xffff) {
          const first = readSections(r, shoff, shentsize, 1, 0)[0]!;
          if (shnum === 0) shnum = first.size;
          if (shstrndx === 0xffff) shstrndx = r.u32(shoff + (wide ? 40 : 24), 'sh_link');
        }
        if (shnum > maxElfSections) throw new Malformed(`${shnum} sections (more than ${maxElfSections})`);
        sections = readSections(r, shoff, shentsize, shnum, shstrndx);
      } catch (error) {
        if (!(error instanceof BeyondPrefix)) throw error;
        sectionHeadersAvailable = false;
      }
    }
    const dynsym = sections.find((s) => s.type === SHT_DYNSYM);
    let importedSymbols: number | undefined;
    if (dynsym) {
      try {
        importedSymbols = countImports(r, dynsym);
      } catch (error) {
        if (!(error instanceof BeyondPrefix)) throw error;
      }
    }
    const imageEnd = sections.length > 0
      ? Math.max(shoff + shnum * shentsize, ...sections.filter((section) => section.type !== SHT_NOBITS).map((section) => section.offset + section.size))
      : undefined;
    return {
      ok: true,
      elf: {
        ...(imageEnd !== undefined ? { imageEnd } : {}),
        bits: wide ? 64 : 32,
        littleEndian: data === 1,
        type,
        machine,
        hasInterpreter,
        hasDynamicSegment,
        sections,
        sectionHeadersAvailable,
        hasSymbolTable: sections.some((s) => s.type === SHT_SYMTAB),
        ...(importedSymbols !== undefined ? { importedSymbols } : {}),
      },
    };
  } catch (error) {
    if (error instanceof Malformed) return { ok: false, malformed: true, reason: error.message };
    if (error instanceof BeyondPrefix) return { ok: false, malformed: false, reason: `${error.message} lies beyond the analyzed prefix` };
    return { ok: false, malformed: true, reason: error instanceof Error ? error.message : String(error) };
  }
}

const parsedFiles = new WeakMap<FileContent, ElfParseResult>();

/** parseElf of a file's content, once per content object: the ELF, entropy and packer analyzers read the same headers. */
export function parseFileElf(file: FileContent): ElfParseResult {
  let parsed = parsedFiles.get(file);
  if (!parsed) parsedFiles.set(file, (parsed = parseElf(file.bytes, file.truncated)));
  return parsed;
}
