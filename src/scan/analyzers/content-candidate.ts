/**
 * Content candidates: the files whose bytes the text-matching analyzers (keywords, YARA) read. Executables of any
 * kind, files with an execute bit, and small text files, where miner configs (config.json with pools and wallet),
 * cron lines and launch scripts live. Large text files (logs, dictionaries, man pages) are skipped for speed.
 */
import type { FileHead } from '../file-analyzer.ts';
import { isExecutableMode } from '../layer-entry.ts';
import { executableKind } from './executable-kind.ts';

/** Text files above this size are not read for keywords: configs and scripts are small. */
export const maxTextCandidateBytes = 1024 * 1024;

/** No NUL in the first bytes: text, not a binary format. */
export function looksLikeText(head: Buffer): boolean {
  return head.length > 0 && !head.includes(0);
}

export function isContentCandidate(file: FileHead): boolean {
  if (file.entry.type !== 'file' || file.entry.size === 0) return false;
  if (executableKind(file) !== undefined || isExecutableMode(file.entry.mode)) return true;
  return file.entry.size <= maxTextCandidateBytes && looksLikeText(file.head);
}
