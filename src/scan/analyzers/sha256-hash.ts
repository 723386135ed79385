/**
 * Known hashes: a file whose SHA-256 is on a loaded hash list is a known miner build. Conclusive, and cheap: the
 * scanner hashes every file anyway, so this analyzer wants every regular file.
 */
import type { FileAnalyzer } from '../file-analyzer.ts';
import { fileLocation } from './file-location.ts';

export const sha256Hash: FileAnalyzer = {
  id: 'sha256-hash',
  version: 1,
  wants: (file) => file.entry.type === 'file',
  digestOnly: true,
  analyze(file, signatures) {
    const entry = signatures.hashes.get(file.sha256.replace(/^sha256:/, '').toLowerCase());
    if (!entry) return [];
    const reference = entry.reference ? `; ${entry.reference}` : '';
    return [
      {
        analyzer: 'sha256-hash',
        rule: 'hash.known-miner',
        strength: 'conclusive',
        summary: `SHA-256 ${entry.sha256} is known miner ${entry.name} (${entry.family}) from ${entry.source}${reference}`,
        location: fileLocation(file),
      },
    ];
  },
};
