/**
 * Keyword rules: the keyword prefilter's generated rules (plain lower-case literals) matched natively over a
 * lower-cased copy of a file, window by window; windows overlap by the longest factor less one, so no factor is
 * missed at a seam. Which rules matched tells which keyword lists may match (see keyword-prefilter.ts).
 */
import { createLowering, loweringWindowBytes, type Lowering } from './ascii-lowering.ts';
import type { KeywordPrefilter } from './keyword-prefilter.ts';
import { compileGeneratedRules } from './yara-engine.ts';

/**
 * Strings per compiled rule set. The native matcher (Rust's aho-corasick) builds a fast DFA for up to 100 patterns
 * and a contiguous NFA past that: measured on text, 470 against 100 MB/s, so two small sets beat one large one.
 */
const maxStringsPerSet = 100;

export class KeywordRules {
  readonly #sets: { names(bytes: Buffer): string[] }[];
  readonly #overlap: number;
  #lowering: Lowering | undefined;

  private constructor(sets: { names(bytes: Buffer): string[] }[], overlap: number) {
    this.#sets = sets;
    this.#overlap = overlap;
  }

  /** Undefined when the prefilter has no rules or no native engine loads: every list then runs on every file. */
  static compile(prefilter: KeywordPrefilter): KeywordRules | undefined {
    // A factor longer than the overlap the lowering memory leaves room for could straddle two windows unseen.
    if (prefilter.longestFactor > 32 * 1024 || prefilter.rules.length === 0) return undefined;
    const packed: string[][] = [];
    let strings = Infinity;
    for (const rule of prefilter.rules) {
      if (strings + rule.strings > maxStringsPerSet) {
        packed.push([]);
        strings = 0;
      }
      packed.at(-1)!.push(rule.source);
      strings += rule.strings;
    }
    const sets = packed.map((sources) => compileGeneratedRules(sources.join('\n')));
    if (sets.some((set) => set === undefined)) return undefined;
    return new KeywordRules(sets as { names(bytes: Buffer): string[] }[], Math.max(0, prefilter.longestFactor - 1));
  }

  /** Names of the generated rules whose factors occur in `bytes`, ignoring ASCII case. */
  matched(bytes: Uint8Array): Set<string> {
    this.#lowering ??= createLowering();
    const found = new Set<string>();
    for (let start = 0; start < bytes.length; start += loweringWindowBytes) {
      const end = Math.min(bytes.length, start + loweringWindowBytes + this.#overlap);
      const lowered = this.#lowering.lower(bytes, start, end);
      for (const set of this.#sets) for (const name of set.names(lowered)) found.add(name);
    }
    return found;
  }
}
