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

const upxMagic = Buffer.from('UPX!');
const upxInfo = Buffer.from('This file is packed with the UPX executable packer');
const upxId = Buffer.from('the UPX Team. All Rights Reserved.');
/** Function names Ezuri's Go stub keeps in its pclntab even when stripped. */
const ezuriMarkers = [Buffer.from('main.runFromMemory'), Buffer.from('main.aesDec')];
const packerSections: Record<string, string> = { UPX0: 'UPX', UPX1: 'UPX', UPX2: 'UPX', '.MPRESS1': 'MPRESS', '.MPRESS2': 'MPRESS' };

export const packer: FileAnalyzer = {
  id: 'packer',
  version: 1,
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
        summary: 'Ezuri crypter stub (decrypts its payload with AES and runs it from memory)',
        location,
      });
    }
    return signals;
  },
};
