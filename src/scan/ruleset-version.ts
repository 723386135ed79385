/** The ruleset version: what a cached layer report depends on besides the layer itself. */
import { createHash } from 'node:crypto';
import type { Limits } from '../platform/limits.ts';
import type { Signatures } from '../signatures/signatures.ts';
import type { FileAnalyzer } from './file-analyzer.ts';

export function rulesetVersion(signatures: Signatures, analyzers: readonly FileAnalyzer[], limits: Limits): string {
  const hash = createHash('sha256');
  hash.update(`signatures ${signatures.version}\n`);
  for (const analyzer of analyzers) hash.update(`analyzer ${analyzer.id}@${analyzer.version}\n`);
  // Limits that change what is analyzed change the result.
  hash.update(`limits ${limits.maxAnalyzedFileBytes} ${limits.maxFileBytes}\n`);
  return `sha256:${hash.digest('hex').slice(0, 32)}`;
}
