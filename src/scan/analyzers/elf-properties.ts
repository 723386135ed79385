/**
 * ELF properties: structural traits of dropped payloads that many benign programs share too, so all weak —
 * statically linked and stripped, a dynamic program importing almost nothing (a loader that resolves at run time),
 * no section headers at all (sstrip, UPX), a malformed header (a crafted file). They count only with other traits.
 */
import type { FileAnalyzer } from '../file-analyzer.ts';
import type { Signal } from '../signal.ts';
import { parseFileElf } from './elf-file.ts';
import { isElf } from './executable-kind.ts';
import { fileLocation } from './file-location.ts';

/** A dynamically linked program importing fewer symbols than this barely uses its libraries. */
export const fewImportsThreshold = 8;

export const elfProperties: FileAnalyzer = {
  id: 'elf',
  version: 1,
  wants: (file) => file.entry.type === 'file' && isElf(file.head),
  analyze(file) {
    const location = fileLocation(file);
    const parsed = parseFileElf(file);
    if (!parsed.ok) {
      if (!parsed.malformed) return [];
      return [{ analyzer: 'elf', rule: 'elf.malformed', strength: 'weak', summary: `malformed ELF: ${parsed.reason}`, location }];
    }
    const { elf } = parsed;
    const signals: Signal[] = [];
    const weak = (rule: string, summary: string): void => {
      signals.push({ analyzer: 'elf', rule, strength: 'weak', summary, location });
    };
    const isStatic = !elf.hasInterpreter;
    if (elf.sectionHeadersAvailable && elf.sections.length === 0 && !file.truncated) {
      weak('elf.no-section-headers', 'ELF without section headers (removed by sstrip or a packer)');
    } else if (isStatic && elf.sectionHeadersAvailable && !elf.hasSymbolTable && elf.type === 2) {
      weak('elf.static-stripped', 'statically linked, stripped ELF executable');
    }
    if (
      !isStatic &&
      elf.importedSymbols !== undefined &&
      elf.importedSymbols < fewImportsThreshold
    ) {
      weak('elf.few-imports', `dynamically linked ELF importing only ${elf.importedSymbols} symbols`);
    }
    return signals;
  },
};
