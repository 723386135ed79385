/**
 * Content rules: the keyword lists (pool hosts, stratum URLs and methods, miner options, wallet addresses,
 * algorithm names) matched over a file's bytes read as latin1, one signal per list that matched, at the list's
 * strength. Host:port pairs on a stratum port add a weak signal. A list's expression runs only where the keyword
 * prefilter (matched in the shared YARA pass) says it may match; without a prefilter, or when the pass failed,
 * every list runs, as the expressions alone decide what matches either way.
 */
import type { FileAnalyzer } from '../file-analyzer.ts';
import type { Signal } from '../signal.ts';
import { findKeywords } from '../../signatures/keyword-matcher.ts';
import { portsPossible, ruledOutLists } from '../../signatures/keyword-prefilter.ts';
import type { Signatures } from '../../signatures/signatures.ts';
import type { FileContent } from '../layer-entry.ts';
import { contentScan } from './content-scan.ts';
import { isContentCandidate } from './content-candidate.ts';
import { fileLocation } from './file-location.ts';
import { findPoolEndpoints } from './pool-endpoints.ts';

/** Which lists (by id) cannot match in `file`, and whether stratum ports may; undefined: all may. */
function prefiltered(file: FileContent, signatures: Signatures): { ruledOut: ReadonlySet<string>; ports: boolean } | undefined {
  const prefilter = signatures.keywordPrefilter;
  if (!prefilter || !signatures.yara) return undefined;
  let generated;
  try {
    generated = contentScan(file, signatures).generated;
  } catch {
    return undefined; // the YARA analyzer reports the failed pass; keywords still run in full
  }
  if (!generated) return undefined;
  return { ruledOut: ruledOutLists(prefilter, generated, file.bytes), ports: portsPossible(prefilter, generated) };
}

export const contentRules: FileAnalyzer = {
  id: 'content-rules',
  version: 1,
  wants: isContentCandidate,
  analyze(file, signatures) {
    const possible = prefiltered(file, signatures);
    // The latin1 copy (one character per byte) is made only for a file some expression must read.
    let text: string | undefined;
    const read = () => (text ??= file.bytes.toString('latin1'));
    const location = fileLocation(file);
    const signals: Signal[] = [];
    for (const list of signatures.keywords) {
      if (!list.scopes.includes('files')) continue;
      if (possible?.ruledOut.has(list.id)) continue;
      const hits = findKeywords(list, read());
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
    const endpoints = signatures.stratumPorts.size > 0 && (!possible || possible.ports) ? findPoolEndpoints(read(), signatures.stratumPorts) : [];
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
