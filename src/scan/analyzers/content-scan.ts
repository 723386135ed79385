/**
 * Content scan: the one native YARA pass over a file that the YARA analyzer (the rule files' matches) and the
 * content-rules analyzer (which keyword lists may match) share. Kept per file content object for the life of that
 * object, so whichever analyzer runs first pays for the pass and the other reads its outcome, error included.
 */
import type { Signatures } from '../../signatures/signatures.ts';
import type { YaraScan } from '../../signatures/yara-engine.ts';
import type { FileContent } from '../layer-entry.ts';

type Outcome = { scan: YaraScan } | { error: unknown };

const outcomes = new WeakMap<FileContent, Outcome>();

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
