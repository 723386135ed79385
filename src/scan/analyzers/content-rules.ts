/**
 * Content rules: the keyword lists (pool hosts, stratum URLs and methods, miner options, wallet addresses,
 * algorithm names) matched over a file's bytes read as latin1, one signal per list that matched, at the list's
 * strength. Host:port pairs on a stratum port add a weak signal.
 */
import type { FileAnalyzer } from '../file-analyzer.ts';
import type { Signal } from '../signal.ts';
import { findKeywords } from '../../signatures/keyword-matcher.ts';
import { isContentCandidate } from './content-candidate.ts';
import { fileLocation } from './file-location.ts';
import { findPoolEndpoints } from './pool-endpoints.ts';

export const contentRules: FileAnalyzer = {
  id: 'content-rules',
  version: 1,
  wants: isContentCandidate,
  analyze(file, signatures) {
    const text = file.bytes.toString('latin1');
    const location = fileLocation(file);
    const signals: Signal[] = [];
    for (const list of signatures.keywords) {
      if (!list.scopes.includes('files')) continue;
      const hits = findKeywords(list, text);
      if (!hits) continue;
      const more = hits.count > hits.examples.length ? ` (${hits.count}${hits.count >= 1000 ? '+' : ''} matches)` : '';
      signals.push({
        analyzer: 'content-rules',
        rule: `keyword.${list.id}`,
        strength: list.strength,
        ...(list.severity ? { severity: list.severity } : {}),
        summary: `contains ${list.summary} ${hits.examples.map((e) => JSON.stringify(e)).join(', ')} at offset 0x${hits.firstOffset.toString(16)}${more}`,
        location,
      });
    }
    const endpoints = findPoolEndpoints(text, signatures.stratumPorts);
    if (endpoints.length > 0) {
      signals.push({
        analyzer: 'content-rules',
        rule: 'keyword.stratum-port',
        strength: 'weak',
        summary: `contains host:port on a common mining pool port: ${endpoints.join(', ')}`,
        location,
      });
    }
    return signals;
  },
};
