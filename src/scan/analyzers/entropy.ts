/**
 * Entropy: compressed or encrypted code (a packed or crypted miner) looks random, ~8 bits per byte, where machine
 * code and data sit around 5–6.5. Weak: benign programs embed compressed assets too. Measured per ELF section
 * (sections compressed by design — SHF_COMPRESSED, .gnu_debugdata, .zdebug* — are skipped), or over the whole file
 * when it has no sections, as UPX output has none.
 */
import type { FileAnalyzer } from '../file-analyzer.ts';
import type { Signal } from '../signal.ts';
import { parseFileElf, SHF_COMPRESSED, SHT_NOBITS } from './elf-file.ts';
import { isElf } from './executable-kind.ts';
import { fileLocation } from './file-location.ts';
import { shannonEntropy } from './shannon-entropy.ts';

export const highFileEntropy = 7.2;
export const highSectionEntropy = 7.4;
/** Below this size entropy estimates are noisy (256 symbols need thousands of samples). */
export const minEntropyBytes = 16 * 1024;

function isCompressedByDesign(name: string, flags: number): boolean {
  return (flags & SHF_COMPRESSED) !== 0 || name === '.gnu_debugdata' || name.startsWith('.zdebug');
}

export const entropy: FileAnalyzer = {
  id: 'entropy',
  version: 2,
  wants: (file) => file.entry.type === 'file' && file.entry.size >= minEntropyBytes && isElf(file.head),
  analyze(file) {
    const location = fileLocation(file);
    const signals: Signal[] = [];
    const parsed = parseFileElf(file);
    // Sections localise randomness better; the whole file is measured when there are none (UPX and sstrip leave none).
    const hasSections = parsed.ok && parsed.elf.sections.length > 0;
    if (!hasSections && file.bytes.length >= minEntropyBytes) {
      const value = shannonEntropy(file.bytes);
      if (value >= highFileEntropy) {
        signals.push({
          analyzer: 'entropy',
          rule: 'entropy.high-file',
          strength: 'weak',
          summary: `high entropy ${value.toFixed(2)} bits/byte over ${file.truncated ? 'the analyzed prefix' : 'the whole file'} (packed or encrypted)`,
          location,
        });
      }
    }
    if (parsed.ok) {
      const high = parsed.elf.sections
        .filter((s) => s.type !== SHT_NOBITS && s.size >= minEntropyBytes && !isCompressedByDesign(s.name, s.flags))
        .filter((s) => s.offset + s.size <= file.bytes.length)
        .map((s) => ({ name: s.name || '(unnamed)', value: shannonEntropy(file.bytes, s.offset, s.offset + s.size) }))
        .filter((s) => s.value >= highSectionEntropy);
      if (high.length > 0) {
        signals.push({
          analyzer: 'entropy',
          rule: 'entropy.high-section',
          strength: 'weak',
          summary: `high-entropy ELF sections: ${high.map((s) => `${s.name} ${s.value.toFixed(2)}`).join(', ')}`,
          location,
        });
      }
    }
    return signals;
  },
};
