/**
 * File analyzers: the plug-in port of the scanner (after trivy's analyzers). `wants` looks at the header and the
 * first bytes only, so most files are skipped without being read; bumping `version` invalidates the layer cache.
 */
import type { FileContent } from './layer-entry.ts';
import type { LayerEntry } from './layer-entry.ts';
import type { Signal } from './signal.ts';
import type { Signatures } from '../signatures/signatures.ts';

/** What `wants` gets: the header, and the first bytes of the content (up to 4 KiB). */
export interface FileHead {
  entry: LayerEntry;
  head: Buffer;
}

export interface FileAnalyzer {
  id: string;
  version: number;
  wants(file: FileHead): boolean;
  analyze(file: FileContent, signatures: Signatures): Signal[] | Promise<Signal[]>;
  /**
   * Byte strings whose presence the analyzer tests (`hasMarker`): compiled into the YARA pass that content rules
   * and YARA rules share, so a test costs a lookup instead of another search through the file. Only for analyzers
   * whose files that pass covers (executables).
   */
  markers?: Readonly<Record<string, Buffer>>;
  /** analyze() reads the entry and the SHA-256 only, never the bytes: a file no other analyzer wants is not kept. */
  digestOnly?: boolean;
}
