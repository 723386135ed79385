/**
 * Content scan: the native passes over a file that analyzers share, each run once per file content object. The
 * rule files' pass serves the YARA analyzer and the analyzers' markers (the packer's); the keyword rules' pass
 * serves the content rules. Whichever analyzer asks first pays; the others read the outcome, error included.
 */
import type { Signatures } from '../../signatures/signatures.ts';
import type { YaraScan } from '../../signatures/yara-engine.ts';
import type { FileContent } from '../layer-entry.ts';

type Outcome = { scan: YaraScan } | { error: unknown };

const outcomes = new WeakMap<FileContent, Outcome>();
const keywordOutcomes = new WeakMap<FileContent, ReadonlySet<string> | undefined>();

/** The pass over `file`, run once; throws what the scan threw (a timeout, a hostile file). */
export function contentScan(file: FileContent, signatures: Signatures): YaraScan {
  let outcome = outcomes.get(file);
  if (!outcome) {
    try {
      outcome = { scan: signatures.yara.scanAll(file.bytes) };
    } catch (error) {
      outcome = { error };
    }
    outcomes.set(file, outcome);
  }
  if ('error' in outcome) throw outcome.error;
  return outcome.scan;
}

/**
 * Whether `file` contains the analyzer's marker `name` (its bytes `bytes`): read from the shared pass when the
 * signatures compiled the marker into it, else searched for.
 */
export function hasMarker(file: FileContent, signatures: Signatures | undefined, analyzer: string, name: string, bytes: Buffer): boolean {
  const rule = signatures?.markerRules?.get(`${analyzer}:${name}`);
  if (rule && signatures?.yara) {
    let generated;
    try {
      generated = contentScan(file, signatures).generated;
    } catch {
      generated = undefined; // the YARA analyzer reports the failed pass
    }
    if (generated) return generated.has(rule);
  }
  return file.bytes.includes(bytes);
}

/**
 * The generated keyword rules that matched in `file` (its own pass, over lower-cased bytes), once per file;
 * undefined when the signatures carry none or the pass failed, so every keyword list runs.
 */
export function keywordRulesMatched(file: FileContent, signatures: Signatures): ReadonlySet<string> | undefined {
  if (keywordOutcomes.has(file)) return keywordOutcomes.get(file);
  let matched: ReadonlySet<string> | undefined;
  try {
    matched = signatures.keywordRules?.matched(file.bytes);
  } catch {
    matched = undefined;
  }
  keywordOutcomes.set(file, matched);
  return matched;
}
