/**
 * Layer reports: what analysing one layer produced, independent of the image it belongs to, so it can be cached
 * by layer digest and reused by every image that shares the layer. Whiteouts and paths are kept so the final
 * file system can be worked out later, across layers.
 */
import type { Severity } from '../core/severity.ts';
import type { Signal, Verdict } from './signal.ts';

export interface FlaggedFile {
  path: string;
  /** Layer key (diff_id) the file came from. */
  layer: string;
  sha256: string;
  size: number;
  mode: number;
  verdict: Exclude<Verdict, 'clean'>;
  severity: Severity;
  signals: Signal[];
  /** Whether only a prefix of the file was analyzed (larger than limits.maxAnalyzedFileBytes). */
  truncated: boolean;
}

/** Something wrong with the input that did not stop the layer: an escaping path, a file over the size limit. */
export interface Problem {
  code: 'path-escapes-root' | 'link-escapes-root' | 'file-too-large' | 'layer-incomplete' | 'unreadable';
  part: string;
  message: string;
}

export interface LayerStats {
  /** Uncompressed bytes of the layer tarball. */
  bytes: number;
  entries: number;
  /** Files whose content an analyzer looked at. */
  analyzedFiles: number;
  analyzedBytes: number;
}

export interface LayerReport {
  key: string;
  flagged: FlaggedFile[];
  /** Paths an `.wh.NAME` entry deletes from lower layers. */
  whiteouts: string[];
  /** Directories an `.wh..wh..opq` entry empties of lower layers' content. */
  opaqueDirs: string[];
  /** Every non-directory path the layer adds, for telling when a later layer replaced a flagged file. */
  paths: string[];
  stats: LayerStats;
  problems: Problem[];
}
