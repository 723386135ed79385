/**
 * Fuzzy hashes: TLSH and ssdeep digests of executables compared with the fuzzy entries of the loaded hash lists, so
 * a recompiled or re-configured miner (new wallet, new pool, another version) still matches a published digest.
 * Skipped when no list carries fuzzy entries, since hashing is the slow part (the TLSH port runs at a few MB/s).
 */
import type { FileAnalyzer } from '../file-analyzer.ts';
import type { Signal } from '../signal.ts';
import type { FuzzyEntry } from '../../signatures/signatures.ts';
import { ssdeepCompare, ssdeepHash } from '../../signatures/ssdeep.ts';
import { tlshDistance, tlshHash } from '../../signatures/tlsh.ts';
import { executableKind } from './executable-kind.ts';
import { fileLocation } from './file-location.ts';

/** TLSH distance at or below which a file is the same program (conclusive) or a near variant (strong). */
export const tlshConclusiveDistance = 20;
export const tlshStrongDistance = 50;
/** ssdeep similarity at or above which a file is the same program (conclusive) or a near variant (strong). */
export const ssdeepConclusiveScore = 90;
export const ssdeepStrongScore = 60;
/** Larger executables are not fuzzy-hashed: miners are a few MB, and hashing costs ~0.1 s per MB. */
export const maxFuzzyHashBytes = 32 * 1024 * 1024;

interface Best {
  entry: FuzzyEntry;
  value: number;
}

function describe(entry: FuzzyEntry): string {
  return `${entry.name} (${entry.family}) from ${entry.source}${entry.reference ? `; ${entry.reference}` : ''}`;
}

export const fuzzyHash: FileAnalyzer = {
  id: 'fuzzy-hash',
  version: 1,
  wants: (file) => file.entry.type === 'file' && executableKind(file) !== undefined,
  analyze(file, signatures) {
    // A prefix would hash differently from the whole file the list describes.
    if (signatures.fuzzy.length === 0 || file.truncated || file.bytes.length > maxFuzzyHashBytes) return [];
    const signals: Signal[] = [];
    const location = fileLocation(file);

    if (signatures.fuzzy.some((e) => e.tlsh)) {
      const digest = tlshHash(file.bytes);
      let best: Best | undefined;
      if (digest) {
        for (const entry of signatures.fuzzy) {
          if (!entry.tlsh) continue;
          const value = tlshDistance(digest, entry.tlsh);
          if (value <= tlshStrongDistance && (!best || value < best.value)) best = { entry, value };
        }
      }
      if (best) {
        signals.push({
          analyzer: 'fuzzy-hash',
          rule: 'fuzzy.tlsh',
          strength: best.value <= tlshConclusiveDistance ? 'conclusive' : 'strong',
          summary: `TLSH ${digest} is ${best.value} from known miner ${describe(best.entry)}`,
          location,
        });
      }
    }

    if (signatures.fuzzy.some((e) => e.ssdeep)) {
      const digest = ssdeepHash(file.bytes);
      let best: Best | undefined;
      for (const entry of signatures.fuzzy) {
        if (!entry.ssdeep) continue;
        const value = ssdeepCompare(digest, entry.ssdeep);
        if (value >= ssdeepStrongScore && (!best || value > best.value)) best = { entry, value };
      }
      if (best) {
        signals.push({
          analyzer: 'fuzzy-hash',
          rule: 'fuzzy.ssdeep',
          strength: best.value >= ssdeepConclusiveScore ? 'conclusive' : 'strong',
          summary: `ssdeep ${digest} matches known miner ${describe(best.entry)} with score ${best.value}`,
          location,
        });
      }
    }
    return signals;
  },
};
