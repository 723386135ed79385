/**
 * Packers: miners are often shipped packed so their strings (and so keyword and YARA rules) are hidden. UPX is
 * common in benign images too, so a plain UPX marker is weak; UPX markers with the `UPX!` header magic removed mean
 * someone defeated `upx -d` on purpose (strong); the Ezuri crypter (Go, decrypts and runs from memory, used by
 * TeamTNT for miners) is strong. The verdict treats any packer signal as "packed" when combining strong signals.
 */
import type { FileAnalyzer } from '../file-analyzer.ts';
import type { Signal } from '../signal.ts';
import { parseFileElf } from './elf-file.ts';
import { hasMarker } from './content-scan.ts';
import { executableKind } from './executable-kind.ts';
import { fileLocation } from './file-location.ts';
import { shannonEntropy } from './shannon-entropy.ts';

/** Byte strings the packer looks for; searched in the shared YARA pass (see content-scan.ts). */
const markers = {
  upxMagic: Buffer.from('UPX!'),
  upxInfo: Buffer.from('This file is packed with the UPX executable packer'),
  upxId: Buffer.from('the UPX Team. All Rights Reserved.'),
  // Function names Ezuri's Go loader keeps in its pclntab even when stripped.
  ezuriRun: Buffer.from('main.runFromMemory'),
  ezuriDecrypt: Buffer.from('main.aesDec'),
  // Imports that together run a program from an anonymous in-memory file, leaving nothing on disk to scan.
  memfdCreate: Buffer.from('\0memfd_create\0'),
  fexecve: Buffer.from('\0fexecve\0'),
  execveat: Buffer.from('\0execveat\0'),
};
/** An appended payload this large and this random is an encrypted or compressed program, not a resource. */
const minOverlayBytes = 64 * 1024;
const encryptedOverlayEntropy = 7.2;
const packerSections: Record<string, string> = { UPX0: 'UPX', UPX1: 'UPX', UPX2: 'UPX', '.MPRESS1': 'MPRESS', '.MPRESS2': 'MPRESS' };

export const packer: FileAnalyzer = {
  id: 'packer',
  version: 2,
  markers,
  wants: (file) => file.entry.type === 'file' && executableKind(file) === 'elf',
  analyze(file, signatures) {
    const { bytes } = file;
    const has = (name: keyof typeof markers) => hasMarker(file, signatures, 'packer', name, markers[name]);
    const location = fileLocation(file);
    const signals: Signal[] = [];
    const hasMagic = has('upxMagic');
    const hasUpxText = has('upxInfo') || has('upxId');
    const parsed = parseFileElf(file);
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
    if (has('ezuriRun') && has('ezuriDecrypt')) {
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
    if (has('memfdCreate') && (has('fexecve') || has('execveat'))) {
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
