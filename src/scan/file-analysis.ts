/**
 * File analysis: running the wanted analyzers on one file's content, either on this thread or on a pool of worker
 * threads (the layer stream keeps decompressing while workers hash and match rules). Results are memoised by
 * SHA-256 for the life of the scan: the same binary in ten layers or ten images is analyzed once.
 */
import { createHash } from 'node:crypto';
import { toNomineError } from '../core/errors.ts';
import type { Limits } from '../platform/limits.ts';
import type { Signatures } from '../signatures/signatures.ts';
import type { FileAnalyzer } from './file-analyzer.ts';
import type { FileContent } from './layer-entry.ts';
import type { Signal } from './signal.ts';

export interface AnalysisResult {
  signals: Signal[];
  /** Analyzers that failed on this file, with why; the file's other signals still count. */
  failures: { analyzer: string; message: string }[];
}

/** What an analysis answers for a file: its result, and the file's SHA-256 (computed there when it was not given). */
export interface AnalysedFile extends AnalysisResult {
  sha256: string;
}

/**
 * A file handed to an analysis. Without `sha256`, `bytes` are the whole file and the analysis computes the digest:
 * on the worker threads, where it costs the layer reader nothing (it was a third of that thread's time).
 */
export type FileForAnalysis = Omit<FileContent, 'sha256'> & { sha256?: string };

export interface FileAnalysis {
  /** Analyzes `file`; when its bytes came from reserve(), the analysis owns them and reuses them once it settles. */
  analyze(file: FileForAnalysis, analyzerIds: readonly string[]): Promise<AnalysedFile>;
  /**
   * Room for `bytes` of file content that worker threads read in place (no copy per file), in an area shared by
   * every file in flight (`limits` size it: maxAnalysisInFlightBytes for the files in flight, maxAnalyzedFileBytes
   * for the largest); resolves when that much is free, which is what holds the layer stream back. Undefined (now)
   * when this analysis has no such area.
   */
  reserve?(bytes: number, limits: Pick<Limits, 'maxAnalysisInFlightBytes' | 'maxAnalyzedFileBytes'>): Promise<Buffer> | undefined;
  /**
   * Whether the analysis lags behind the reader (most of its memory is taken): the reader then computes the digest
   * of a file kept whole itself, which it otherwise leaves to the analysis, so neither side idles while the other
   * works. Undefined: never.
   */
  lagging?(): boolean;
  /** Gives back a buffer from reserve() that will not be analyzed after all. */
  release?(buffer: Buffer): void;
  close(): Promise<void>;
}

async function runAnalyzers(analyzers: readonly FileAnalyzer[], file: FileContent, signatures: Signatures): Promise<AnalysisResult> {
  const result: AnalysisResult = { signals: [], failures: [] };
  for (const analyzer of analyzers) {
    try {
      result.signals.push(...(await analyzer.analyze(file, signatures)));
    } catch (error) {
      // An analyzer failing on one hostile file must not lose the layer: say so, and go on.
      result.failures.push({ analyzer: analyzer.id, message: toNomineError(error).message });
    }
  }
  return result;
}

const maxMemoEntries = 50_000;

/** Most files yield nothing; they share one frozen result instead of each keeping its own. */
const nothingFound: AnalysisResult = Object.freeze({ signals: Object.freeze([]) as unknown as Signal[], failures: Object.freeze([]) as unknown as AnalysisResult['failures'] });

/** The file with its SHA-256, computed from its bytes (the whole file) when it was not given. */
function withDigest(file: FileForAnalysis): FileContent {
  return file.sha256 !== undefined ? (file as FileContent) : { ...file, sha256: createHash('sha256').update(file.bytes).digest('hex') };
}

/**
 * Runs analyzers (by id) on files, computing the digest a file came without, and analyzes identical content with the
 * same analyzers once for its life (a scan): the same binary in ten layers or ten images. Used where the digest is
 * known, the analysis's own thread: the inline analysis, and each worker.
 */
export function memoisedAnalyzers(analyzers: ReadonlyMap<string, FileAnalyzer>, signatures: Signatures): (file: FileForAnalysis, ids: readonly string[]) => Promise<AnalysedFile> {
  // Settled entries hold the result itself, not its promise; keys are short (digest, flag, analyzer-set number),
  // since a full scan fills the memo with tens of thousands of them.
  const memo = new Map<string, Promise<AnalysisResult> | AnalysisResult>();
  const analyzerSets = new Map<string, number>();
  const analyzeOnce = (file: FileContent, ids: readonly string[]): Promise<AnalysisResult> => {
    // The same bytes under another path may be wanted by other analyzers (a .js name), and a truncated prefix
    // is not the whole file: both belong in the key.
    const idsKey = ids.join(',');
    let set = analyzerSets.get(idsKey);
    if (set === undefined) analyzerSets.set(idsKey, (set = analyzerSets.size));
    const key = `${file.sha256}${file.truncated ? 't' : 'w'}${set}`;
    const known = memo.get(key);
    if (known) return Promise.resolve(known);
    if (memo.size >= maxMemoEntries) memo.delete(memo.keys().next().value!);
    const result = runAnalyzers(ids.map((id) => analyzers.get(id)!), file, signatures);
    memo.set(key, result);
    result.then(
      (settled) => {
        if (memo.get(key) === result) memo.set(key, settled.signals.length === 0 && settled.failures.length === 0 ? nothingFound : settled);
      },
      () => undefined, // the caller sees the failure; the entry keeps the rejected promise
    );
    return result;
  };
  return async (given, ids) => {
    const file = withDigest(given);
    return { ...(await analyzeOnce(file, ids)), sha256: file.sha256 };
  };
}

/** Analysis on the calling thread. */
export function inlineAnalysis(analyzers: readonly FileAnalyzer[], signatures: Signatures): FileAnalysis {
  return {
    analyze: memoisedAnalyzers(new Map(analyzers.map((analyzer) => [analyzer.id, analyzer])), signatures),
    close: async () => undefined,
  };
}
