/**
 * Packers: miners are often shipped packed so their strings (and so keyword and YARA rules) are hidden. UPX is
 * common in benign images too, so a plain UPX marker is weak; UPX markers with the `UPX!` header magic removed mean
 * someone defeated `upx -d` on purpose (strong); the Ezuri crypter (Go, decrypts and runs from memory, used by
 * TeamTNT for miners) is strong. The verdict treats any packer signal as "packed" when combining strong signals.
 */
import type { FileAnalyzer } from '../file-analyzer.ts';
import type { Signal } from '../signal.ts';
import { parseElf } from './elf-file.ts';
import { executableKind } from './executable-kind.ts';
import { fileLocation } from './file-location.ts';
import { shannonEntropy } from './shannon-entropy.ts';

const upxMagic = Buffer.from('UPX!');
const upxInfo = Buffer.from('This file is packed with the UPX executable packer');
const upxId = Buffer.from('the UPX Team. All Rights Reserved.');
/** Function names Ezuri's Go loader keeps in its pclntab even when stripped. */
const ezuriMarkers = [Buffer.from('main.runFromMemory'), Buffer.from('main.aesDec')];
/** An appended payload this large and this random is an encrypted or compressed program, not a resource. */
const minOverlayBytes = 64 * 1024;
const encryptedOverlayEntropy = 7.2;
/** Imports that together run a program from an anonymous in-memory file, leaving nothing on disk to scan. */
const memfdCreate = Buffer.from('\0memfd_create\0');
const memoryExec = [Buffer.from('\0fexecve\0'), Buffer.from('\0execveat\0')];
const packerSections: Record<string, string> = { UPX0: 'UPX', UPX1: 'UPX', UPX2: 'UPX', '.MPRESS1': 'MPRESS', '.MPRESS2': 'MPRESS' };

export const packer: FileAnalyzer = {
  id: 'packer',
  version: 2,
  wants: (file) => file.entry.type === 'file' && executableKind(file) === 'elf',
  analyze(file) {
    const { bytes } = file;
    const location = fileLocation(file);
    const signals: Signal[] = [];
    const hasMagic = bytes.includes(upxMagic);
    const hasUpxText = bytes.includes(upxInfo) || bytes.includes(upxId);
    const parsed = parseElf(bytes, file.truncated);
    const sectionPackers = parsed.ok
      ? [...new Set(parsed.elf.sections.map((s) => packerSections[s.name]).filter((p): p is string => p !== undefined))]
      : [];

    if (hasUpxText && !hasMagic && !file.truncated) {
      signals.push({
        analyzer: 'packer',
        rule: 'packer.upx-tampered',
        strength: 'strong',
        summary: 'UPX-packed with the UPX! header magic removed, which blocks unpacking (upx -d)',
        location,
      });
    } else if (hasMagic && (hasUpxText || sectionPackers.includes('UPX'))) {
      signals.push({ analyzer: 'packer', rule: 'packer.upx', strength: 'weak', summary: 'packed with UPX', location });
    } else if (hasMagic && parsed.ok && parsed.elf.sections.length === 0) {
      signals.push({ analyzer: 'packer', rule: 'packer.upx', strength: 'weak', summary: 'packed with UPX (UPX! header, no sections)', location });
    }
    if (sectionPackers.includes('MPRESS')) {
      signals.push({ analyzer: 'packer', rule: 'packer.mpress', strength: 'weak', summary: 'packed with MPRESS', location });
    }
    if (ezuriMarkers.every((marker) => bytes.includes(marker))) {
      signals.push({
        analyzer: 'packer',
        rule: 'packer.ezuri',
        strength: 'strong',
        summary: 'Ezuri crypter loader (decrypts its payload with AES and runs it from memory)',
        location,
      });
    }
    if (parsed.ok && parsed.elf.imageEnd !== undefined && !file.truncated) {
      const overlay = bytes.length - parsed.elf.imageEnd;
      if (overlay >= minOverlayBytes) {
        const randomness = shannonEntropy(bytes, parsed.elf.imageEnd);
        if (randomness >= encryptedOverlayEntropy) {
          signals.push({
            analyzer: 'packer',
            rule: 'packer.encrypted-overlay',
            strength: 'strong',
            summary: `carries ${overlay} bytes of high-entropy data (${randomness.toFixed(2)} bits/byte) appended after its ELF image: an encrypted or packed payload`,
            location,
          });
        }
      }
    }
    if (bytes.includes(memfdCreate) && memoryExec.some((name) => bytes.includes(name))) {
      signals.push({
        analyzer: 'packer',
        rule: 'packer.memfd-exec',
        // strace, perf, python and runc import both too: a trait, not proof; with an encrypted overlay it decides.
        strength: 'weak',
        summary: 'imports memfd_create with fexecve/execveat: runs a program from an in-memory file, leaving nothing on disk to scan',
        location,
      });
    }
    return signals;
  },
};
