/**
 * The file analyzers nomine runs, as a literal map: `keyof typeof fileAnalyzers` types the CLI flag and config that
 * select them. Order is the cheap-first order the scanner may use.
 */
import type { FileAnalyzer } from '../file-analyzer.ts';
import { contentRules } from './content-rules.ts';
import { elfProperties } from './elf-properties.ts';
import { entropy } from './entropy.ts';
import { fuzzyHash } from './fuzzy-hash.ts';
import { packer } from './packer.ts';
import { sha256Hash } from './sha256-hash.ts';
import { yaraRules } from './yara-rules.ts';

export const fileAnalyzers = {
  sha256Hash,
  elf: elfProperties,
  packer,
  entropy,
  contentRules,
  yara: yaraRules,
  fuzzyHash,
} satisfies Record<string, FileAnalyzer>;

export type FileAnalyzerName = keyof typeof fileAnalyzers;

export { executableKind, type ExecutableKind } from './executable-kind.ts';
export { analyzeImageConfig } from './image-config.ts';
